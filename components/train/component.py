"""KFP wrapper of the train stage."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Model, Output

from mlrig.components.runtime.image import MLRIG_IMAGE


@dsl.component(base_image=MLRIG_IMAGE, install_kfp_package=False)
def train(
    root: str,
    dataset_section: dict,
    model_section: dict,
    profile: str,
    project: str,
    stores_section: dict,
    workdir: str,
    training_set: Input[Dataset],
    model: Output[Model],
    holdout: Output[Dataset],
) -> None:
    """Tune and fit the candidates; the model is logged to MLflow, its run recorded in `model`."""
    from mlrig.components.config.slices import config_from_task

    config = config_from_task(locals())
    from mlrig.components.train.io import run

    info = run(config, training_set.path, model.path, holdout.path)
    model.metadata["mlflow_run_id"] = info["run_id"]
    model.metadata["model_uri"] = info["model_uri"]
