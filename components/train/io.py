"""Train stage I/O: split, fit and tune, then track everything (with the model's contract) in
one MLflow run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sklearn

from mlrig.components.common import events, tables, tracking
from mlrig.components.common.catalog import (
    CONTRACT_METADATA_KEY,
    EVENT_TS,
    HOLDOUT,
    MODEL_ARTIFACT,
    RUN_FILE,
    TRAINING_SET,
)
from mlrig.components.common.contract import Contract, label_classes
from mlrig.components.config.loader import from_json
from mlrig.components.train.core import fit_candidates, random_split, time_split


def pip_requirements() -> list[str]:
    """Explicit requirements (inferring them costs seconds per model)."""
    import cloudpickle

    return [
        f"scikit-learn=={sklearn.__version__}",
        f"pandas=={pd.__version__}",
        f"numpy=={np.__version__}",
        f"cloudpickle=={cloudpickle.__version__}",
    ]


def run(config_json: str, training_dir: str, model_dir: str, holdout_dir: str) -> dict:
    """Fit the candidates; log params, search, data version, the model and its contract."""
    loaded = from_json(config_json)
    cfg = loaded.config
    meta = tables.read_manifest(training_dir)
    frame = tables.read_tables(training_dir)[TRAINING_SET]
    contract = Contract.load(training_dir)
    with events.stage("train") as out:
        contract.task, contract.classes, contract.positive_label = label_classes(
            frame[contract.target], cfg.dataset.task, cfg.dataset.positive_label
        )
        timed = contract.event_time is not None
        if timed:
            split = time_split(frame, EVENT_TS, cfg.model.holdout_fraction)
        else:
            y_all = contract.targets(frame) if contract.is_classifier else None
            split = random_split(frame, y_all, cfg.model.holdout_fraction, cfg.model.random_state)
        y_train = contract.targets(split.train)
        result = fit_candidates(
            split.train,
            y_train,
            contract.inputs,
            contract.categorical,
            contract.task,
            cfg.model,
            split.train[EVENT_TS] if timed else None,
        )
        mlflow = tracking.configure(loaded)
        commit = tracking.git_commit(loaded.root)
        service = contract.features.service if contract.features else ""
        with mlflow.start_run(run_name=f"{cfg.project}-train") as active:
            mlflow.set_tags(
                {
                    "mlrig.dataset_hash": meta["dataset_hash"],
                    "mlrig.feature_service": service,
                    "mlrig.feature_set": meta["feature_set"],
                    "mlrig.sampled": str(meta.get("sampled", False)).lower(),
                    "mlrig.git_commit": commit,
                    "mlrig.profile": cfg.profile,
                    "mlflow.source.git.commit": commit,
                }
            )
            mlflow.log_params(
                {
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
                }
            )
            mlflow.log_metrics(result.cv)
            for i, trial in enumerate(result.search):
                if np.isfinite(trial["cv_score"]):
                    mlflow.log_metric("search_cv_score", trial["cv_score"], step=i)
            mlflow.log_dict({"trials": result.search}, "search.json")
            mlflow.log_dict(contract.to_dict(), "contract.json")
            example = split.train[contract.inputs].head(5)
            signature = mlflow.models.infer_signature(example, result.model.predict(example))
            info = mlflow.sklearn.log_model(
                sk_model=result.model,
                name=MODEL_ARTIFACT,
                signature=signature,
                input_example=example,
                pip_requirements=pip_requirements(),
                serialization_format="cloudpickle",
                metadata={CONTRACT_METADATA_KEY: contract.to_dict()},
            )
            run_info = {
                "run_id": active.info.run_id,
                "model_uri": info.model_uri,
                "candidate": result.name,
                "params": result.params,
                "task": contract.task,
                "holdout": split.how,
                "cv_scheme": result.cv_scheme,
                "cv": result.cv,
                "sampled": bool(meta.get("sampled", False)),
                "dataset_hash": meta["dataset_hash"],
            }
        tables.write_json(model_dir, RUN_FILE, run_info)
        contract.save(model_dir)
        tables.write_tables(holdout_dir, {HOLDOUT: split.holdout}, {"holdout": split.how})
        metric = cfg.model.primary_metric
        out.update(
            {
                "best": result.name,
                "params": result.params,
                "task": contract.task,
                f"cv_{metric}": _mean_std(result.cv, metric),
                "cv": result.cv_scheme,
                "train_rows": len(split.train),
                "holdout": split.how,
                "run_id": active.info.run_id[:8],
            }
        )
    return run_info


def _mean_std(cv: dict[str, float], metric: str) -> str:
    return f"{cv[f'cv_{metric}_mean']:.4f} ± {cv[f'cv_{metric}_std']:.4f}"
