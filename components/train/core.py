"""Training: a holdout split (time or seeded random), candidate sklearn pipelines, a search scored
by cross-validation that respects time, the best refit.

Preprocessing (imputation, scaling, encoding) lives inside the pipeline, so the logged model
takes the raw feature columns and serving cannot skew from training.
"""

from __future__ import annotations

from collections.abc import Iterator
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
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from mlrig.components.common.metrics import better, scorers, summarize_cv
from mlrig.components.config.schema import Model as ModelSpec


@dataclass
class Split:
    train: pd.DataFrame
    holdout: pd.DataFrame
    how: str  # "events from <cutoff>" or "random 20 % (seed 42)"


@dataclass
class TrainResult:
    model: Pipeline
    name: str
    params: dict[str, Any]
    cv: dict[str, float]  # cv_<metric>_mean / _std of the chosen configuration
    cv_scheme: str
    search: list[dict[str, Any]] = field(default_factory=list)


def time_split(frame: pd.DataFrame, ts_col: str, holdout_fraction: float) -> Split:
    """Holdout = the latest events; training = everything strictly before the cutoff."""
    ordered = frame.sort_values(ts_col, kind="stable")
    cutoff = ordered[ts_col].iloc[int(len(ordered) * (1 - holdout_fraction))]
    train = ordered[ordered[ts_col] < cutoff].reset_index(drop=True)
    holdout = ordered[ordered[ts_col] >= cutoff].reset_index(drop=True)
    if train.empty or holdout.empty:
        raise ValueError("time split left an empty side: too few distinct event times")
    return Split(train, holdout, f"events from {cutoff.isoformat()}")


def random_split(frame: pd.DataFrame, y: np.ndarray | None, fraction: float, seed: int) -> Split:
    """A seeded random holdout, stratified by class when y is given (classification)."""
    strat = y if y is not None and np.bincount(y).min() >= 2 else None
    train, holdout = train_test_split(
        frame, test_size=fraction, random_state=seed, stratify=strat, shuffle=True
    )
    how = f"random {fraction:.0%} (seed {seed}{', stratified' if strat is not None else ''})"
    return Split(train.reset_index(drop=True), holdout.reset_index(drop=True), how)


class ForwardChaining:
    """Time-ordered CV: the rows sorted by time are cut into folds+1 blocks (never splitting one
    timestamp); fold i validates on block i+1 after training on every earlier block."""

    def __init__(self, times: pd.Series, folds: int) -> None:
        self.times = pd.to_datetime(times, utc=True).to_numpy()
        self.folds = folds

    def get_n_splits(self, *_: Any, **__: Any) -> int:
        return len(list(self.split()))

    def split(self, *_: Any, **__: Any) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        order = np.argsort(self.times, kind="stable")
        ordered = self.times[order]
        n = len(order)
        edges = []
        for i in range(1, self.folds + 1):
            pos = int(n * i / (self.folds + 1))
            edges.append(np.searchsorted(ordered, ordered[min(pos, n - 1)], side="left"))
        edges.append(n)
        for start, stop in zip(edges[:-1], edges[1:], strict=True):
            if start > 0 and stop > start:
                yield order[:start], order[start:stop]


def cv_splitter(task: str, folds: int, seed: int, times: pd.Series | None) -> Any:
    """Forward-chaining folds when there is an event time, else shuffled (stratified) k-fold."""
    if times is not None:
        return ForwardChaining(times, folds)
    if task != "regression":
        return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return KFold(n_splits=folds, shuffle=True, random_state=seed)


def cv_scheme(folds: int, timed: bool) -> str:
    return f"{folds}-fold forward-chaining (time)" if timed else f"{folds}-fold shuffled"


def _preprocessor(numeric: list[str], categorical: list[str], dense_linear: bool) -> Any:
    if dense_linear:
        cat = make_pipeline(
            SimpleImputer(strategy="constant", fill_value="__missing__"),
            OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20),
        )
        num = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
        )
    else:
        cat = make_pipeline(
            SimpleImputer(strategy="constant", fill_value="__missing__"),
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
        )
        num = "passthrough"
    return ColumnTransformer([("num", num, numeric), ("cat", cat, categorical)])


def _estimator(name: str, task: str, seed: int) -> Any:
    classification = task != "regression"
    if name == "logistic_regression":
        return LogisticRegression(max_iter=1000)
    if name == "ridge":
        return Ridge()
    if name == "hist_gradient_boosting":
        cls = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
        return cls(random_state=seed)
    if name == "random_forest":
        cls = RandomForestClassifier if classification else RandomForestRegressor
        return cls(n_estimators=200, n_jobs=-1, random_state=seed, min_samples_leaf=5)
    raise ValueError(f"model.candidates: unknown candidate '{name}'")


def build_pipeline(
    name: str, task: str, numeric: list[str], categorical: list[str], seed: int
) -> Pipeline:
    """Preprocessing + estimator for one candidate."""
    linear = name in ("logistic_regression", "ridge")
    return Pipeline(
        [
            ("prep", _preprocessor(numeric, categorical, linear)),
            ("model", _estimator(name, task, seed)),
        ]
    )


def _grid(space: dict[str, list[Any]]) -> list[dict[str, Any]]:
    keys = list(space)
    return [dict(zip(keys, combo, strict=True)) for combo in product(*(space[k] for k in keys))]


def fit_candidates(
    train: pd.DataFrame,
    y: np.ndarray,
    inputs: list[str],
    categorical: list[str],
    task: str,
    spec: ModelSpec,
    times: pd.Series | None,
) -> TrainResult:
    """Grid-search every candidate with CV on a sample of train (time-ordered folds when times
    are given); refit the best on all of train. y holds encoded classes or values."""
    numeric = [c for c in inputs if c not in categorical]
    n = min(spec.tuning_sample_rows, len(train))
    rng = np.random.default_rng(spec.random_state)
    pick = np.sort(rng.choice(len(train), size=n, replace=False))
    x_tune, y_tune = train.iloc[pick][inputs], y[pick]
    tune_times = times.iloc[pick] if times is not None else None
    splitter = cv_splitter(task, spec.cv_folds, spec.random_state, tune_times)
    metric = spec.primary_metric or ""
    trials: list[dict[str, Any]] = []
    for name, space in spec.candidates.items():
        base = build_pipeline(name, task, numeric, categorical, spec.random_state)
        for params in _grid(space):
            candidate = clone(base).set_params(**{f"model__{k}": v for k, v in params.items()})
            result = cross_validate(
                candidate, x_tune, y_tune, cv=splitter, scoring=scorers(task),
                error_score=np.nan,
            )  # fmt: skip
            cv = summarize_cv(result, task)
            trials.append({"candidate": name, "params": params, "cv": cv,
                           "cv_score": cv[f"cv_{metric}_mean"]})  # fmt: skip
    scored = [t for t in trials if np.isfinite(t["cv_score"])] or trials
    best = scored[0]
    for trial in scored[1:]:
        if better(metric, trial["cv_score"], best["cv_score"]) > 0:
            best = trial
    model = build_pipeline(best["candidate"], task, numeric, categorical, spec.random_state)
    model.set_params(**{f"model__{k}": v for k, v in best["params"].items()})
    model.fit(train[inputs], y)
    return TrainResult(
        model=model,
        name=best["candidate"],
        params=best["params"],
        cv=best["cv"],
        cv_scheme=cv_scheme(spec.cv_folds, times is not None),
        search=trials,
    )
