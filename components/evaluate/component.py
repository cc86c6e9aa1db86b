"""KFP wrapper of the evaluate stage."""

from kfp import dsl
from kfp.dsl import HTML, Dataset, Input, Metrics, Model, Output

from mlrig.components.runtime.image import MLRIG_IMAGE


@dsl.component(base_image=MLRIG_IMAGE, install_kfp_package=False)
def evaluate(
    root: str,
    model_section: dict,
    project: str,
    stores_section: dict,
    workdir: str,
    model: Input[Model],
    holdout: Input[Dataset],
    evaluation: Output[Dataset],
    metrics: Output[Metrics],
    report: Output[HTML],
) -> None:
    """Holdout and k-fold CV metrics plus the HTML report."""
    from mlrig.components.config.slices import config_from_task

    config = config_from_task(locals())
    import shutil

    from mlrig.components.evaluate.io import run
    from mlrig.components.runtime.catalog import EVAL_REPORT_FILE as REPORT_FILE

    values = run(config, model.path, holdout.path, evaluation.path)
    for key, value in values.items():
        metrics.log_metric(key, value)
    shutil.copy(f"{evaluation.path}/{REPORT_FILE}", report.path)
