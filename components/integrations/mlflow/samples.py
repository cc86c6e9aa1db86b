"""Samples of model inputs kept with a training run: the holdout's (evaluation) and the monitor's
reference (training rows)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from mlrig.components.runtime.catalog import HOLDOUT_SAMPLE_FILE, REFERENCE_FILE

HOLDOUT_SAMPLE = f"evaluation/{HOLDOUT_SAMPLE_FILE}"
REFERENCE = f"monitor/{REFERENCE_FILE}"


def _listed(client: Any, run_id: str, folder: str) -> set[str]:
    return {f.path for f in client.list_artifacts(run_id, folder)}


def check_rows(mlflow: Any, run_id: str) -> tuple[pd.DataFrame, str]:
    """The run's holdout sample, or (runs evaluated before it was kept) its reference sample of
    training rows; with which of them it is. LookupError when the run has neither."""
    client = mlflow.MlflowClient()
    for path, what in ((HOLDOUT_SAMPLE, "holdout rows"), (REFERENCE, "training rows")):
        if path in _listed(client, run_id, path.split("/")[0]):
            with tempfile.TemporaryDirectory() as tmp:
                local = mlflow.artifacts.download_artifacts(
                    run_id=run_id, artifact_path=path, dst_path=tmp
                )
                return pd.read_parquet(Path(local)), what
    raise LookupError(f"run {run_id} keeps no sample of model inputs to check an export on")
