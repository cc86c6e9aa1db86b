"""KFP wrapper of batch scoring."""

from kfp import dsl
from kfp.dsl import Dataset, Output

from mlrig.components.runtime.image import MLRIG_IMAGE


@dsl.component(base_image=MLRIG_IMAGE, install_kfp_package=False)
def batch_score(
    root: str,
    dataset_section: dict,
    model_section: dict,
    stores_section: dict,
    workdir: str,
    input_path: str,
    predictions: Output[Dataset],
    keep: str = "[]",
) -> int:
    """Score a file of request-shaped rows with the champion; returns how many were scored.
    keep: a JSON list of the file's columns to carry to the predictions untouched (a row id)."""
    from mlrig.components.config.slices import config_from_task

    config = config_from_task(locals())
    import json

    from mlrig.components.score.io import run

    # the task's process has opened nothing yet: the chunks are checked in a forked one
    scored = run(config, input_path, predictions.path, json.loads(keep), fork=True)["scored"]
    return int(scored)


@dsl.component(base_image=MLRIG_IMAGE, install_kfp_package=False)
def scored_total(counts: list[int]) -> int:
    """The rows the parts' tasks scored, summed (the fan-in of a parallel scoring run)."""
    return int(sum(counts))
