"""The training run in MLflow: its tags, parameters and metrics, every tuning trial as a child
run, the monitor's reference sample, the released model (and the holdout's, when they differ)
with the contract, and which rows each was fitted on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from mlrig.components.contract import fit_rows
from mlrig.components.contract.contract import Contract
from mlrig.components.contract.metrics import scores
from mlrig.components.integrations.mlflow import modelfile
from mlrig.components.runtime.catalog import (
    CONTRACT_METADATA_KEY,
    EVENT_TS,
    MODEL_ARTIFACT,
    REFERENCE_FILE,
    REFERENCE_SCORE,
)
from mlrig.components.train.core import Fitted
from mlrig.components.train.results import SearchResult

HOLDOUT_MODEL = "model_without_holdout"


@dataclass(frozen=True)
class RunFacts:
    """What a training run records of where it ran: the project, the profile, the code's commit."""

    project: str
    profile: str
    commit: str


REFERENCE_ROWS = 20_000


def track(
    mlflow: Any, fitted: Fitted, contract: Contract, meta: dict, where: RunFacts, folder: Path
) -> dict:
    """Log one training run; returns what the later stages read of it (run.json)."""
    split, result = fitted.split, fitted.result
    both = split.all_rows()
    service = contract.features.service if contract.features else ""
    with mlflow.start_run(run_name=f"{where.project}-train") as active:
        newest = str(both[EVENT_TS].max()) if contract.event_time is not None else ""
        mlflow.set_tags(_tags(meta, service, where.commit, where.profile, newest))
        mlflow.log_params(_params(fitted, contract, meta, service))
        mlflow.log_metrics(result.cv)
        log_trials(mlflow, result)
        mlflow.log_dict(contract.to_dict(), "contract.json")
        reference = reference_sample(fitted.evaluated, contract, split.train, fitted.random_state)
        folder.mkdir(parents=True, exist_ok=True)
        reference.to_parquet(folder / REFERENCE_FILE, index=False)
        mlflow.log_artifact(str(folder / REFERENCE_FILE), "monitor")
        released, evaluated = _log_models(mlflow, fitted, contract)
        train_rows = fit_rows.row_hashes(split.train, contract)
        all_rows = fit_rows.row_hashes(both, contract) if fitted.refit_on_all else train_rows
        fit_rows.log(mlflow, folder, all_rows, train_rows)
        return {
            "run_id": active.info.run_id,
            "model_uri": released,
            "holdout_model_uri": evaluated,
            "refit_on_all": fitted.refit_on_all,
            "threshold": contract.threshold,
            "threshold_rule": fitted.threshold_note,
            "trials": len(result.trials),
            "baseline": fitted.baseline,
            "candidate": result.name,
            "params": result.params,
            "task": contract.task,
            "holdout": split.how,
            "cv_scheme": result.cv_scheme,
            "cv": result.cv,
            "default_rule": result.default_rule,
            "ensemble_rule": result.ensemble_rule,
            "tuning_budget": result.budget,
            "sampled": bool(meta.get("sampled", False)),
            "dataset_hash": meta["dataset_hash"],
        }


def _tags(meta: dict, service: str, commit: str, profile: str, newest: str) -> dict[str, str]:
    return {
        "mlrig.dataset_hash": meta["dataset_hash"],
        "mlrig.feature_service": service,
        "mlrig.feature_set": meta["feature_set"],
        "mlrig.sampled": str(meta.get("sampled", False)).lower(),
        "mlrig.git_commit": commit,
        "mlrig.profile": profile,
        "mlflow.source.git.commit": commit,
        # the newest event the released model saw (a replay checks it, pipelines/replay.py)
        "mlrig.last_event": newest,
    }


def _params(fitted: Fitted, contract: Contract, meta: dict, service: str) -> dict[str, Any]:
    result, split = fitted.result, fitted.split
    return {
        "candidate": result.name,
        **{f"model.{k}": v for k, v in result.params.items()},
        "task": contract.task,
        "dataset_hash": meta["dataset_hash"],
        "feature_service": service,
        "train_rows": len(split.train),
        "holdout_rows": len(split.holdout),
        "holdout": split.how,
        "cv_scheme": result.cv_scheme,
        "n_inputs": len(contract.inputs),
        "default_rule": result.default_rule,
        "ensemble_rule": result.ensemble_rule,
        "tuning_budget": result.budget,
        "threshold": contract.threshold,
        "threshold_rule": fitted.threshold_note,
        "refit_on_all": fitted.refit_on_all,
        "calibrate": fitted.calibrate,
        "released_rows": fitted.released_count,
    }


def _log_models(mlflow: Any, fitted: Fitted, contract: Contract) -> tuple[str, str]:
    """The released model and, when it was refit on every row, the holdout's: their URIs."""
    example = fitted.split.train[contract.inputs].head(5)
    common = {
        "signature": mlflow.models.infer_signature(example, fitted.released.predict(example)),
        "input_example": example,
        "pip_requirements": pip_requirements(),
        **modelfile.log_options(),
        "metadata": {CONTRACT_METADATA_KEY: contract.to_dict()},
    }
    info = mlflow.sklearn.log_model(sk_model=fitted.released, name=MODEL_ARTIFACT, **common)
    holdout = info
    if fitted.refit_on_all:
        holdout = mlflow.sklearn.log_model(sk_model=fitted.evaluated, name=HOLDOUT_MODEL, **common)
    mlflow.set_tag(fit_rows.HOLDOUT_MODEL_TAG, holdout.model_uri)
    return info.model_uri, holdout.model_uri


def pip_requirements() -> list[str]:
    """Explicit requirements (inferring them costs seconds per model)."""
    import skops

    return [
        f"scikit-learn=={sklearn.__version__}",
        f"pandas=={pd.__version__}",
        f"numpy=={np.__version__}",
        f"skops=={skops.__version__}",
    ]


def score_column(model: Any, contract: Contract, x: pd.DataFrame) -> np.ndarray:
    """One number a row to watch for drift: the positive-class probability (binary), the top
    class's probability (multiclass) or the value (regression)."""
    pred = scores(model, x, contract.task, len(contract.classes))
    if contract.task == "binary":
        return pred[:, 1]
    return pred.max(axis=1) if contract.task == "multiclass" else np.asarray(pred, dtype=float)


def reference_sample(
    model: Any, contract: Contract, train: pd.DataFrame, seed: int
) -> pd.DataFrame:
    """The monitor's reference: model inputs of up to REFERENCE_ROWS training rows and the score
    the model gives them."""
    n = min(REFERENCE_ROWS, len(train))
    sample = train.sample(n=n, random_state=seed)[contract.inputs].reset_index(drop=True)
    return sample.assign(**{REFERENCE_SCORE: score_column(model, contract, sample)})


def log_trials(mlflow: Any, result: SearchResult) -> None:
    """Every tuning trial as a child run of the training run; the chosen one tagged best."""
    for record in result.trials:
        with mlflow.start_run(run_name=f"trial-{record['trial']:03d}", nested=True):
            params = {f"model.{k}": v for k, v in record["params"].items()}
            mlflow.log_params({"candidate": record["candidate"], **params})
            cv = record.get("cv") or {}
            mlflow.log_metrics({k: v for k, v in cv.items() if np.isfinite(v)})
            if np.isfinite(record["cv_score"]):
                mlflow.log_metric("cv_score", record["cv_score"])
            best = str(record["trial"] == result.best_trial).lower()
            mlflow.set_tags({"mlrig.trial_state": record["state"], "mlrig.best": best})
