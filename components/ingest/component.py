"""KFP wrapper of the ingest stage."""

from kfp import dsl
from kfp.dsl import Dataset, Output

from mlrig.components.runtime.image import MLRIG_IMAGE


@dsl.component(base_image=MLRIG_IMAGE, install_kfp_package=False)
def ingest(
    root: str, dataset_section: dict, model_section: dict, workdir: str, raw: Output[Dataset]
) -> str:
    """Read every source into a content-hashed snapshot; returns the dataset hash."""
    from mlrig.components.config.slices import config_from_task

    config = config_from_task(locals())
    from mlrig.components.ingest.io import run

    return run(config, raw.path)["dataset_hash"]
