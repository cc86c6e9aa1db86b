"""Train stage I/O: split, fit and tune, then track everything (with the model's contract) in
one MLflow run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from mlrig.components.config.loader import from_json
from mlrig.components.contract import fit_rows
from mlrig.components.contract.contract import Contract, label_classes
from mlrig.components.contract.metrics import holdout_metrics, scores
from mlrig.components.integrations.mlflow import modelfile, tracking
from mlrig.components.runtime import cache, cpus, events, tables
from mlrig.components.runtime.catalog import (
    CONTRACT_METADATA_KEY,
    EVENT_TS,
    HOLDOUT,
    MODEL_ARTIFACT,
    REFERENCE_FILE,
    REFERENCE_SCORE,
    RUN_FILE,
    TRAINING_SET,
)
from mlrig.components.train.core import (
    PlattCalibrated,
    build_pipeline,
    fit_platt,
    random_split,
    time_split,
    too_few_times,
)
from mlrig.components.train.core import fit as fit_model
from mlrig.components.train.search import SearchResult, tune
from mlrig.components.train.threshold import choose


def pip_requirements() -> list[str]:
    """Explicit requirements (inferring them costs seconds per model)."""
    import skops

    return [
        f"scikit-learn=={sklearn.__version__}",
        f"pandas=={pd.__version__}",
        f"numpy=={np.__version__}",
        f"skops=={skops.__version__}",
    ]


def run_exists(config_json: str, result: dict) -> bool:
    """A cached training result is reusable only while its MLflow run is still there."""
    mlflow = tracking.configure(from_json(config_json))
    try:
        return mlflow.get_run(result["run_id"]).info.lifecycle_stage == "active"
    except Exception:  # MLflow raises its own not-found error per store
        return False


@cache.stage(
    "train", inputs=("training_dir",), outputs=("model_dir", "holdout_dir"), still_valid=run_exists
)
def run(config_json: str, training_dir: str, model_dir: str, holdout_dir: str) -> dict:
    """Fit the candidates; log params, search, data version, the model and its contract."""
    loaded = from_json(config_json)
    cfg = loaded.config
    meta = tables.read_manifest(training_dir)
    frame = tables.read_tables(training_dir)[TRAINING_SET]
    contract = Contract.load(training_dir)
    threads = cpus.work_threads()  # the CPUs this pod or process is given
    with events.stage("train") as out, cpus.limited(threads):
        out["threads"] = threads
        main = cfg.dataset.tables[cfg.dataset.main].all_columns()
        contract.task, contract.classes, contract.positive_label = label_classes(
            frame[contract.target],
            cfg.dataset.task,
            cfg.dataset.positive_label,
            main.get(contract.target),
        )
        timed = contract.event_time is not None
        few = too_few_times(frame[EVENT_TS], cfg.model.cv_folds) if timed else None
        if timed and not few:
            split = time_split(frame, EVENT_TS, cfg.model.holdout_fraction)
        else:
            y_all = contract.targets(frame) if contract.is_classifier else None
            split = random_split(frame, y_all, cfg.model.holdout_fraction, cfg.model.random_state)
            if few:  # features stay point-in-time as of each row's own time
                split.how += f"; {few}: random holdout and shuffled CV"
                out["split_note"] = split.how
        y_train = contract.targets(split.train)
        result = tune(
            split.train,
            y_train,
            contract.inputs,
            contract.categorical,
            contract.task,
            len(contract.classes),
            cfg.model,
            split.train[EVENT_TS] if timed and not few else None,
            on_trial=lambda t: out.update(trials=t["trial"] + 1),
            text=contract.text,
        )
        threshold_note, platt = "", None
        if contract.task == "binary":
            y_oof, p_oof = y_train[result.oof.oof_index], result.oof.oof_score[:, 1]
            if cfg.model.calibrate == "sigmoid":
                platt = fit_platt(y_oof, p_oof)
                p_oof = PlattCalibrated(None, *platt).calibrate(p_oof)
            contract.threshold, threshold_note = choose(y_oof, p_oof, cfg.model.threshold)
        numeric = [c for c in contract.inputs if c not in contract.categorical]

        def fit(frame: pd.DataFrame) -> object:
            pipe = build_pipeline(result.name, contract.task, numeric, contract.categorical,
                                  cfg.model.random_state, result.params, result.wide,
                                  contract.text)  # fmt: skip
            fit_model(pipe, frame[contract.inputs], contract.targets(frame))
            if result.name == "lightgbm":  # one row at a time in serving: one thread
                pipe.set_params(model__n_jobs=1)
            return PlattCalibrated(pipe, *platt) if platt else pipe

        evaluated = fit(split.train)  # what the holdout judges, once, in the evaluate stage
        baseline = baseline_on_holdout(contract, split, numeric, cfg.model.random_state)
        both = pd.concat([split.train, split.holdout], ignore_index=True)
        released = fit(both) if cfg.model.refit_on_all else evaluated
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
                    # the newest event the released model saw (a replay checks it, replay.py)
                    "mlrig.last_event": str(both[EVENT_TS].max()) if timed else "",
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
            mlflow.log_params({"threshold": contract.threshold, "threshold_rule": threshold_note,
                               "refit_on_all": cfg.model.refit_on_all,
                               "calibrate": cfg.model.calibrate,
                               "released_rows": len(both) if cfg.model.refit_on_all
                               else len(split.train)})  # fmt: skip
            log_trials(mlflow, result)
            mlflow.log_dict(contract.to_dict(), "contract.json")
            reference = reference_sample(evaluated, contract, split.train, cfg.model.random_state)
            Path(model_dir).mkdir(parents=True, exist_ok=True)
            reference.to_parquet(Path(model_dir) / REFERENCE_FILE, index=False)
            mlflow.log_artifact(str(Path(model_dir) / REFERENCE_FILE), "monitor")
            example = split.train[contract.inputs].head(5)
            signature = mlflow.models.infer_signature(example, released.predict(example))
            common = {
                "signature": signature,
                "input_example": example,
                "pip_requirements": pip_requirements(),
                **modelfile.log_options(),
                "metadata": {CONTRACT_METADATA_KEY: contract.to_dict()},
            }
            info = mlflow.sklearn.log_model(sk_model=released, name=MODEL_ARTIFACT, **common)
            holdout_info = (
                mlflow.sklearn.log_model(sk_model=evaluated, name=HOLDOUT_MODEL, **common)
                if cfg.model.refit_on_all
                else info
            )
            mlflow.set_tag(fit_rows.HOLDOUT_MODEL_TAG, holdout_info.model_uri)
            train_rows = fit_rows.row_hashes(split.train, contract)
            all_rows = fit_rows.row_hashes(both, contract) if cfg.model.refit_on_all else train_rows
            fit_rows.log(mlflow, Path(model_dir), all_rows, train_rows)
            run_info = {
                "run_id": active.info.run_id,
                "model_uri": info.model_uri,
                "holdout_model_uri": holdout_info.model_uri,
                "refit_on_all": cfg.model.refit_on_all,
                "threshold": contract.threshold,
                "threshold_rule": threshold_note,
                "trials": len(result.trials),
                "baseline": baseline,
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
                "trials": len(result.trials),
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


HOLDOUT_MODEL = "model_without_holdout"
REFERENCE_ROWS = 20_000


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


def baseline_on_holdout(contract: Contract, split: Any, numeric: list[str], seed: int) -> dict:
    """LightGBM with its default parameters, fitted on the same training part and scored on the
    holdout: the bar the tuned model is shown against."""
    pipe = build_pipeline("lightgbm", contract.task, numeric, contract.categorical, seed,
                          text=contract.text)  # fmt: skip
    pipe.fit(split.train[contract.inputs], contract.targets(split.train))
    pred = scores(pipe, split.holdout[contract.inputs], contract.task, len(contract.classes))
    values = holdout_metrics(contract.targets(split.holdout), pred, contract.task, 0.5)
    return {"model": "lightgbm, default parameters", **values}


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


def _mean_std(cv: dict[str, float], metric: str) -> str:
    return f"{cv[f'cv_{metric}_mean']:.4f} ± {cv[f'cv_{metric}_std']:.4f}"
