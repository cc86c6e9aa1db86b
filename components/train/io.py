"""Train stage I/O: split, fit and tune, then track everything in one MLflow run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

from mlrig.components.common import events, tables, tracking
from mlrig.components.config.loader import from_json
from mlrig.components.features.core import EVENT_TS
from mlrig.components.features.io import TRAINING_SET
from mlrig.components.train.core import fit_candidates, time_split

HOLDOUT = "holdout"
RUN_FILE = "run.json"


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
    """Fit the candidates; log params, search, data version and the model; write run.json."""
    loaded = from_json(config_json)
    cfg = loaded.config
    meta = tables.read_manifest(training_dir)
    frame = tables.read_tables(training_dir)[TRAINING_SET]
    inputs, categorical, target = meta["inputs"], meta["categorical"], meta["target"]
    with events.stage("train") as out:
        split = time_split(frame, EVENT_TS, cfg.model.holdout_fraction)
        mlflow = tracking.configure(loaded)
        commit = tracking.git_commit(loaded.root)
        with mlflow.start_run(run_name=f"{cfg.project}-train") as active:
            result = fit_candidates(
                split.train, inputs, categorical, target, cfg.dataset.task, cfg.model
            )
            mlflow.set_tags(
                {
                    "mlrig.dataset_hash": meta["dataset_hash"],
                    "mlrig.feature_service": meta["feature_service"],
                    "mlrig.git_commit": commit,
                    "mlrig.profile": cfg.profile,
                    "mlflow.source.git.commit": commit,
                }
            )
            mlflow.log_params(
                {
                    "candidate": result.name,
                    **{f"model.{k}": v for k, v in result.params.items()},
                    "dataset_hash": meta["dataset_hash"],
                    "feature_service": meta["feature_service"],
                    "train_rows": len(split.train),
                    "holdout_rows": len(split.holdout),
                    "holdout_from": split.cutoff.isoformat(),
                    "n_inputs": len(inputs),
                }
            )
            for i, trial in enumerate(result.search):
                mlflow.log_metric("search_cv_score", trial["cv_score"], step=i)
            mlflow.log_dict({"trials": result.search}, "search.json")
            mlflow.log_dict({"inputs": inputs, "categorical": categorical}, "inputs.json")
            example = split.train[inputs].head(5)
            signature = mlflow.models.infer_signature(example, result.model.predict(example))
            info = mlflow.sklearn.log_model(
                sk_model=result.model,
                name="model",
                signature=signature,
                input_example=example,
                pip_requirements=pip_requirements(),
                serialization_format="cloudpickle",
            )
            run_info = {
                "run_id": active.info.run_id,
                "model_uri": info.model_uri,
                "candidate": result.name,
                "params": result.params,
                "inputs": inputs,
                "target": target,
                "task": cfg.dataset.task,
                "holdout_from": split.cutoff.isoformat(),
            }
        Path(model_dir).mkdir(parents=True, exist_ok=True)
        (Path(model_dir) / RUN_FILE).write_text(json.dumps(run_info, indent=2))
        tables.write_tables(
            holdout_dir,
            {
                HOLDOUT: split.holdout,
                "train_sample": split.train.sample(
                    n=min(cfg.model.tuning_sample_rows, len(split.train)),
                    random_state=cfg.model.random_state,
                ),
            },
            {k: meta[k] for k in ("inputs", "categorical", "target", "task", "dataset_hash")},
        )
        out.update(
            {
                "best": result.name,
                "params": result.params,
                "cv_score": round(max(t["cv_score"] for t in result.search), 4),
                "train_rows": len(split.train),
                "holdout_from": split.cutoff.isoformat(),
                "run_id": active.info.run_id[:8],
            }
        )
    return run_info


def read_run(model_dir: str) -> dict:
    return json.loads((Path(model_dir) / RUN_FILE).read_text())
