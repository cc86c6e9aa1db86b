"""KFP wrapper of the EDA stage."""

from kfp import dsl
from kfp.dsl import HTML, Dataset, Input, Output

from mlrig.components.runtime.image import MLRIG_IMAGE


@dsl.component(base_image=MLRIG_IMAGE, install_kfp_package=False)
def eda(
    root: str,
    dataset_section: dict,
    project: str,
    stores_section: dict,
    workdir: str,
    training_set: Input[Dataset],
    report: Output[HTML],
) -> None:
    """Profile the training set: missing values, distributions, relationships with the target."""
    from mlrig.components.config.slices import config_from_task

    config = config_from_task(locals())
    from mlrig.components.eda.io import run

    run(config, training_set.path, report.path)
