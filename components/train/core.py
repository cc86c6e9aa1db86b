"""Training: the candidate pipelines with their default search spaces (the holdout split and the
CV folds are in splits.py, the search itself in search.py).

Preprocessing (imputation, scaling, encoding) lives inside the pipeline, so the logged model
takes the raw feature columns and serving cannot skew from training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler, TargetEncoder

from mlrig.components.config.schema import Range
from mlrig.components.runtime import cpus
from mlrig.components.train import linear
from mlrig.components.train.boosters import AsText, EarlyStopped
from mlrig.components.train.impute import MedianImputer
from mlrig.components.train.levels import ONEHOT_LEVEL_ROWS, level_rows
from mlrig.components.train.ranges import TrainingRange
from mlrig.components.train.text import TextTopics
from mlrig.components.train.trees import LIGHTGBM_TREES, set_up_lightgbm


class CategoryCodes(BaseEstimator, TransformerMixin):
    """Ordinal codes of the categorical columns as pandas categoricals, which LightGBM splits on
    natively; codes unseen in training become missing."""

    def __init__(self, columns: list[str] | None = None) -> None:
        self.columns = columns

    def fit(self, x: pd.DataFrame, y: Any = None) -> CategoryCodes:
        self.categories_ = {c: sorted(pd.unique(x[c].dropna())) for c in self.columns or []}
        return self

    def transform(self, x: pd.DataFrame) -> pd.DataFrame:
        out = x.copy()
        for column, categories in self.categories_.items():
            out[column] = pd.Categorical(out[column], categories=categories)
        return out


LINEAR = ("logistic_regression", "ridge")
WIDE_LEVELS = 30  # a categorical with more levels than this is target-encoded


def wide_categoricals(x: pd.DataFrame, categorical: list[str]) -> list[str]:
    """The categoricals with more than WIDE_LEVELS levels (a merchant, a product, a zip code):
    one-hot keeps only levels of 20 rows or more (levels.py) and ordinal codes order them
    alphabetically, so a level's own rate is lost; these are target-encoded instead."""
    return [c for c in categorical if x[c].nunique() > WIDE_LEVELS]


def _encoders(categorical: list[str], kind: str, seed: int = 0, task: str = "binary") -> Any:
    impute = SimpleImputer(strategy="constant", fill_value="__missing__")
    if kind == "target":  # each level's mean target, cross-fitted in training (no leak)
        # the folds TargetEncoder's own shuffle=True chose (stratified for classes), given as
        # a splitter: scikit-learn 1.9 deprecates its shuffle and random_state
        split = KFold if task == "regression" else StratifiedKFold
        return make_pipeline(impute, TargetEncoder(cv=split(5, shuffle=True, random_state=seed)))
    if kind == "onehot":
        return make_pipeline(
            impute,
            OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=ONEHOT_LEVEL_ROWS),
        )
    return make_pipeline(
        impute, OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan)
    )


NATIVE = ("lightgbm", "xgboost", "catboost")  # categories split natively


def _preprocessor(
    numeric: list[str],
    categorical: list[str],
    name: str,
    wide: list[str],
    seed: int,
    task: str,
    text: list[str],
) -> Any:
    categorical = [c for c in categorical if c not in text]
    wide = [c for c in wide if c not in text]
    if name in NATIVE:  # splits on categories natively, however many
        wide = []
    narrow = [c for c in categorical if c not in wide]
    encoded = [("wide", _encoders(wide, "target", seed, task), wide)] if wide else []
    # by position: a stored text's input is view__column, and "__" is sklearn's parameter path
    encoded += [(f"text{i}", TextTopics(seed=seed), [c]) for i, c in enumerate(text)]
    if name in LINEAR:
        num: Any = make_pipeline(
            TrainingRange(),  # no slope extended past the numbers training saw (ranges.py)
            MedianImputer(add_indicator=True, keep_empty_features=True, copy=False),
            StandardScaler(copy=False),  # each step scales its own fresh array
        )
        return ColumnTransformer(
            [("num", num, numeric), ("cat", _encoders(narrow, "onehot"), narrow), *encoded]
        )
    cat = AsText() if name == "catboost" else _encoders(narrow, "ordinal")
    prep = ColumnTransformer(
        [("num", "passthrough", numeric), ("cat", cat, narrow), *encoded],
        verbose_feature_names_out=False,
    )
    if name == "catboost":  # reads the categories as text
        return prep.set_output(transform="pandas")
    if name in NATIVE:
        prep.set_output(transform="pandas")
        return make_pipeline(prep, CategoryCodes(categorical))
    return prep


def _estimator(name: str, task: str, seed: int) -> Any:
    classification = task != "regression"
    # LightGBM takes every physical core of the machine unless told (not the CPUs this process
    # is given, nor OMP_NUM_THREADS): in a pod limited to 1 CPU, or beside another fit, its
    # threads spin against each other. Left to itself it also picks row- or column-wise
    # histograms by timing both, so a busy machine changed which model a run released:
    # deterministic with the layout fixed gives one answer per seed.
    threads = cpus.work_threads()
    if name == "logistic_regression":
        return LogisticRegression(max_iter=1000)
    if name == "ridge":
        return Ridge()
    if name == "hist_gradient_boosting":
        cls = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
        return cls(random_state=seed)
    if name == "random_forest":
        cls = RandomForestClassifier if classification else RandomForestRegressor
        return cls(n_estimators=150, n_jobs=threads, random_state=seed, min_samples_leaf=5)
    if name == "lightgbm":
        import lightgbm

        cls = lightgbm.LGBMClassifier if classification else lightgbm.LGBMRegressor
        return cls(
            n_estimators=LIGHTGBM_TREES, random_state=seed, verbose=-1, subsample_freq=1,
            n_jobs=threads,
            deterministic=True, force_col_wise=True,
        )  # fmt: skip
    if name in ("xgboost", "catboost"):
        return EarlyStopped(name, task, seed, threads)
    raise ValueError(f"model.candidates: unknown candidate '{name}'")


def fit(pipe: Pipeline, x: pd.DataFrame, y: np.ndarray) -> Pipeline:
    """pipe.fit(x, y), and how gradient boosting stops. LightGBM: early stopping on a tenth of the
    rows where that pays, and its histogram layout (trees.py). Histogram gradient boosting grows
    a tree per class each round, so on many classes it stops once its validation loss stops
    improving (scikit-learn's own rule turns that on only past 10,000 rows; 30 classes on 1,600
    rows: 6 s a fit -> 0.6 s), where this fit's rows can hold out 10% with every class in both
    parts. A logistic regression's solver follows its encoded width (linear.py). One-hot keeps
    the levels with the rows this fit's size asks of them (levels.py)."""
    for step in pipe.get_params(deep=True).values():
        if isinstance(step, OneHotEncoder):
            step.set_params(min_frequency=level_rows(len(y), ONEHOT_LEVEL_ROWS))
    model = pipe.steps[-1][1]
    if isinstance(model, HistGradientBoostingClassifier):
        _, counts = np.unique(y, return_counts=True)
        held = int(np.ceil(0.1 * len(y)))  # validation_fraction's default
        stop = len(counts) > 2 and counts.min() >= 2 and len(counts) <= held <= len(y) - len(counts)
        model.set_params(early_stopping=True if stop else "auto")
    if type(model).__name__ in ("LGBMClassifier", "LGBMRegressor"):
        set_up_lightgbm(pipe, x, y)  # trees.py: its histogram layout and tree count
    return linear.fit_logistic(pipe, x, y) if linear.is_logistic(pipe) else pipe.fit(x, y)


def rows_to_fit(
    name: str, x: pd.DataFrame, y: np.ndarray, cap: int, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows a candidate is fitted on: all of them, but for a linear model past `cap` rows a
    seeded sample of `cap` (in their order). A hundred coefficients are as well determined by two
    million rows as by ten, and the encoded matrix is the largest thing training holds."""
    if name not in LINEAR or len(x) <= cap:
        return x, y
    keep = np.sort(np.random.default_rng(seed).choice(len(x), cap, replace=False))
    return x.iloc[keep], np.asarray(y)[keep]


def build_pipeline(
    name: str,
    task: str,
    numeric: list[str],
    categorical: list[str],
    seed: int,
    params: dict[str, Any] | None = None,
    wide: list[str] | None = None,
    text: list[str] | None = None,
) -> Pipeline:
    """Preprocessing + estimator for one candidate, with estimator parameters set. wide: the
    categoricals to target-encode (wide_categoricals); text: the categoricals that are free
    text, read as topics (text.py)."""
    prep = _preprocessor(numeric, categorical, name, wide or [], seed, task, text or [])
    pipe = Pipeline(
        [
            ("prep", prep),
            ("model", _estimator(name, task, seed)),
        ]
    )
    return pipe.set_params(**{f"model__{k}": v for k, v in (params or {}).items()})


def _r(low: float, high: float, log: bool = False, integer: bool = False) -> Range:
    return Range(low=low, high=high, log=log, int=integer)


# Search spaces used when the config names a candidate with {} (or names none).
DEFAULT_SPACES: dict[str, dict[str, Any]] = {
    "logistic_regression": {"C": _r(1e-3, 10, log=True)},
    "ridge": {"alpha": _r(1e-3, 100, log=True)},
    "random_forest": {
        "min_samples_leaf": _r(1, 50, log=True, integer=True),
        "max_features": _r(0.2, 1.0),
    },
    "hist_gradient_boosting": {
        "learning_rate": _r(0.02, 0.3, log=True),
        "max_leaf_nodes": _r(15, 127, log=True, integer=True),
        "l2_regularization": _r(1e-3, 10, log=True),
    },
    "lightgbm": {
        "learning_rate": _r(0.02, 0.2, log=True),
        "num_leaves": _r(15, 127, log=True, integer=True),
        "min_child_samples": _r(5, 100, log=True, integer=True),
        "colsample_bytree": _r(0.5, 1.0),
        "subsample": _r(0.6, 1.0),
        "reg_lambda": _r(1e-3, 10, log=True),
    },
    "xgboost": {
        "learning_rate": _r(0.02, 0.3, log=True),
        "max_depth": _r(3, 10, integer=True),
        "min_child_weight": _r(0.5, 20, log=True),
        "subsample": _r(0.6, 1.0),
        "colsample_bytree": _r(0.5, 1.0),
        "reg_lambda": _r(1e-3, 10, log=True),
    },
    "catboost": {
        "learning_rate": _r(0.02, 0.3, log=True),
        "depth": _r(4, 10, integer=True),
        "l2_leaf_reg": _r(1, 10, log=True),
    },
}


def space_of(name: str, configured: dict[str, Any]) -> dict[str, Any]:
    """The configured space of a candidate, or its default when none is given."""
    return dict(configured) if configured else dict(DEFAULT_SPACES[name])


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_platt(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Sigmoid (Platt) calibration of positive-class probabilities, fitted on out-of-fold
    predictions: calibrated = 1 / (1 + exp(-(a * logit(p) + b)))."""
    fitted = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(p).reshape(-1, 1), y)
    return float(fitted.coef_[0, 0]), float(fitted.intercept_[0])


class PlattCalibrated(BaseEstimator):
    """A fitted binary classifier whose probabilities pass through a fitted sigmoid."""

    def __init__(self, model: Any = None, a: float = 1.0, b: float = 0.0) -> None:
        self.model = model
        self.a = a
        self.b = b

    @property
    def classes_(self) -> np.ndarray:
        return self.model.classes_

    def calibrate(self, p: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(self.a * _logit(p) + self.b)))

    def predict_proba(self, x: Any) -> np.ndarray:
        q = self.calibrate(self.model.predict_proba(x)[:, 1])
        return np.column_stack([1 - q, q])

    def predict(self, x: Any) -> np.ndarray:
        return self.classes_[(self.predict_proba(x)[:, 1] >= 0.5).astype(int)]


@dataclass
class Fitted:
    """What training produced: the search, the model the holdout judges, the released one."""

    split: Any
    result: Any  # search.SearchResult
    evaluated: Any
    released: Any
    baseline: dict
    threshold_note: str
    refit_on_all: bool
    random_state: int
    calibrate: str | None

    @property
    def released_rows(self) -> pd.DataFrame:
        return self.split.all_rows() if self.refit_on_all else self.split.train

    @property
    def released_count(self) -> int:
        """len(released_rows), without joining the two sides of a random split."""
        return len(self.split.train) + (len(self.split.holdout) if self.refit_on_all else 0)
