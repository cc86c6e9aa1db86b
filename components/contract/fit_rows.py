"""Which rows a model was fitted on, as 64-bit hashes of each row's request fields and target,
logged with its training run. The gate scores the champion on the challenger's holdout; a
champion refit on all its data has seen those rows whenever the data overlaps (a rerun after a
code change, appended rows), and a model scored on rows it was fitted on wins unfairly."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.contract.contract import Contract

ARTIFACT = "fit_rows"  # folder of the training run: released.npy, evaluated.npy
HOLDOUT_MODEL_TAG = "mlrig.holdout_model_uri"  # the model fitted without its own holdout


def row_hashes(frame: pd.DataFrame, contract: Contract) -> np.ndarray:
    """One hash per row of the columns a row is known by: its request fields and target."""
    columns = sorted(c for c in {*contract.request_fields, contract.target} if c in frame)
    return pd.util.hash_pandas_object(frame[columns], index=False).to_numpy(dtype=np.uint64)


def log(mlflow: Any, folder: Path, released: np.ndarray, evaluated: np.ndarray) -> None:
    """Log both hash sets with the active run."""
    out = Path(folder) / ARTIFACT
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "released.npy", np.unique(released))
    np.save(out / "evaluated.npy", np.unique(evaluated))
    mlflow.log_artifacts(str(out), ARTIFACT)


def saved(folder: str | Path) -> np.ndarray | None:
    """The evaluated model's fit rows as train wrote them into its model folder (None if not)."""
    path = Path(folder) / ARTIFACT / "evaluated.npy"
    return np.load(path) if path.exists() else None


class Unreadable(RuntimeError):
    """A run lists its fit rows but they cannot be read: the gate must not guess."""


def load(mlflow: Any, run_id: str) -> dict[str, np.ndarray] | None:
    """A run's hash sets; None only when the run has none (trained before they were logged).

    Any other failure (the listing, the download or the files) raises Unreadable: "not found"
    is the one answer that means "never recorded", so an error fails closed."""
    try:
        listed = {Path(f.path).name for f in mlflow.MlflowClient().list_artifacts(run_id, ARTIFACT)}
    except Exception as exc:
        raise Unreadable(f"listing the fit rows of run {run_id} failed: {exc}") from exc
    if not listed:
        return None
    names = ("released", "evaluated")
    if not {f"{n}.npy" for n in names} <= listed:
        raise Unreadable(f"run {run_id} holds an incomplete fit-row record: {sorted(listed)}")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=ARTIFACT, dst_path=tmp
            )
            return {n: np.load(Path(path) / f"{n}.npy") for n in names}
        except Exception as exc:
            raise Unreadable(f"reading the fit rows of run {run_id} failed: {exc}") from exc


def seen(rows: np.ndarray, fitted: np.ndarray) -> int:
    """How many of rows are among the fitted rows."""
    return int(np.isin(rows, fitted).sum())
