"""KFP wrapper of the register stage."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Model

from mlrig.components.runtime.image import MLRIG_IMAGE


@dsl.component(base_image=MLRIG_IMAGE, install_kfp_package=False)
def register(
    root: str,
    dataset_section: dict,
    features_section: dict,
    model_section: dict,
    project: str,
    stores_section: dict,
    workdir: str,
    model: Input[Model],
    holdout: Input[Dataset],
    evaluation: Input[Dataset],
) -> int:
    """Register the model version and apply the promotion gate; returns the champion's version."""
    from mlrig.components.config.slices import config_from_task

    config = config_from_task(locals())
    from mlrig.components.register.io import run

    return int(run(config, model.path, holdout.path, evaluation.path)["champion_version"] or 0)
