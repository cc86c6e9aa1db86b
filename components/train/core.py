"""Training: a time-ordered split, candidate sklearn pipelines, a tuned search, the best refit.

Preprocessing (imputation, scaling, one-hot encoding) lives inside the pipeline, so the logged
model takes the raw feature columns and serving cannot skew from training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from mlrig.components.config.schema import Model as ModelSpec

SCORERS = {"classification": "roc_auc", "regression": "neg_root_mean_squared_error"}


@dataclass
class Split:
    train: pd.DataFrame
    holdout: pd.DataFrame
    cutoff: pd.Timestamp


@dataclass
class TrainResult:
    model: Pipeline
    name: str
    params: dict[str, Any]
    search: list[dict[str, Any]] = field(default_factory=list)


def time_split(frame: pd.DataFrame, ts_col: str, holdout_fraction: float) -> Split:
    """Holdout = the latest events; training = everything strictly before the cutoff."""
    ordered = frame.sort_values(ts_col, kind="stable")
    cutoff = ordered[ts_col].iloc[int(len(ordered) * (1 - holdout_fraction))]
    train = ordered[ordered[ts_col] < cutoff].reset_index(drop=True)
    holdout = ordered[ordered[ts_col] >= cutoff].reset_index(drop=True)
    if train.empty or holdout.empty:
        raise ValueError("time split left an empty side: too few distinct event times")
    return Split(train, holdout, cutoff)


def _preprocessor(numeric: list[str], categorical: list[str], dense_linear: bool) -> Any:
    if dense_linear:
        cat = make_pipeline(
            SimpleImputer(strategy="constant", fill_value="__missing__"),
            OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20),
        )
        num = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
    else:
        cat = make_pipeline(
            SimpleImputer(strategy="constant", fill_value="__missing__"),
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
        )
        num = "passthrough"
    return ColumnTransformer([("num", num, numeric), ("cat", cat, categorical)])


def _estimator(name: str, task: str, seed: int) -> Any:
    classification = task == "classification"
    if name == "logistic_regression":
        return LogisticRegression(max_iter=500)
    if name == "ridge":
        return Ridge()
    if name == "hist_gradient_boosting":
        cls = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
        return cls(random_state=seed)
    if name == "random_forest":
        cls = RandomForestClassifier if classification else RandomForestRegressor
        return cls(n_estimators=200, n_jobs=-1, random_state=seed, min_samples_leaf=20)
    raise ValueError(f"model.candidates: unknown candidate '{name}'")


def build_pipeline(
    name: str, task: str, numeric: list[str], categorical: list[str], seed: int
) -> Pipeline:
    """Preprocessing + estimator for one candidate."""
    linear = name in ("logistic_regression", "ridge")
    if task == "regression" and name == "logistic_regression":
        raise ValueError("model.candidates: logistic_regression needs a classification task")
    return Pipeline(
        [
            ("prep", _preprocessor(numeric, categorical, linear)),
            ("model", _estimator(name, task, seed)),
        ]
    )


def _grid(space: dict[str, list[Any]]) -> list[dict[str, Any]]:
    keys = list(space)
    return [dict(zip(keys, combo, strict=True)) for combo in product(*(space[k] for k in keys))]


def cv_splitter(task: str, folds: int, seed: int) -> Any:
    if task == "classification":
        return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return KFold(n_splits=folds, shuffle=True, random_state=seed)


def fit_candidates(
    train: pd.DataFrame,
    inputs: list[str],
    categorical: list[str],
    target: str,
    task: str,
    spec: ModelSpec,
) -> TrainResult:
    """Grid-search every candidate on a sample with k-fold CV; refit the best on all of train."""
    numeric = [c for c in inputs if c not in categorical]
    tune = train.sample(n=min(spec.tuning_sample_rows, len(train)), random_state=spec.random_state)
    x_tune, y_tune = tune[inputs], tune[target]
    splitter = cv_splitter(task, spec.cv_folds, spec.random_state)
    trials: list[dict[str, Any]] = []
    for name, space in spec.candidates.items():
        base = build_pipeline(name, task, numeric, categorical, spec.random_state)
        for params in _grid(space):
            candidate = clone(base).set_params(**{f"model__{k}": v for k, v in params.items()})
            scores = cross_val_score(candidate, x_tune, y_tune, cv=splitter, scoring=SCORERS[task])
            trials.append({"candidate": name, "params": params, "cv_score": float(np.mean(scores))})
    best = max(trials, key=lambda t: t["cv_score"])
    model = build_pipeline(best["candidate"], task, numeric, categorical, spec.random_state)
    model.set_params(**{f"model__{k}": v for k, v in best["params"].items()})
    model.fit(train[inputs], train[target])
    return TrainResult(model=model, name=best["candidate"], params=best["params"], search=trials)
