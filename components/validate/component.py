"""KFP wrapper of the validate stage."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Output

from mlrig.components.runtime.image import MLRIG_IMAGE


@dsl.component(base_image=MLRIG_IMAGE, install_kfp_package=False)
def validate(
    root: str,
    dataset_section: dict,
    model_section: dict,
    workdir: str,
    raw: Input[Dataset],
    validated: Output[Dataset],
    quarantine: Output[Dataset],
) -> None:
    """Type and check every table; rejected rows go to quarantine with their reason."""
    from mlrig.components.config.slices import config_from_task

    config = config_from_task(locals())
    from mlrig.components.validate.io import run

    run(config, raw.path, validated.path, quarantine.path)
