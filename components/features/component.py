"""KFP wrappers of the feature stages: register + training set, and online materialization."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Output

from mlrig.components.runtime.image import MLRIG_IMAGE


@dsl.component(base_image=MLRIG_IMAGE, install_kfp_package=False)
def features(
    root: str,
    dataset_section: dict,
    features_section: dict,
    model_section: dict,
    project: str,
    serving_section: dict,
    stores_section: dict,
    workdir: str,
    validated: Input[Dataset],
    training_set: Output[Dataset],
) -> None:
    """Write feature tables, apply them to Feast, retrieve the point-in-time training set."""
    from mlrig.components.config.slices import config_from_task

    config = config_from_task(locals())
    from mlrig.components.features.io import run

    run(config, validated.path, training_set.path)


@dsl.component(base_image=MLRIG_IMAGE, install_kfp_package=False)
def materialize(
    root: str,
    dataset_section: dict,
    features_section: dict,
    model_section: dict,
    project: str,
    serving_section: dict,
    stores_section: dict,
    workdir: str,
    champion_version: int,
) -> str:
    """Make the champion's feature set live in the online store (after the gate decided)."""
    from mlrig.components.config.slices import config_from_task

    config = config_from_task(locals())
    from mlrig.components.features.io import publish

    return str(publish(config, champion_version).get("feature_set", ""))
