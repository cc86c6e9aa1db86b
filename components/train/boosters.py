"""XGBoost and CatBoost as candidates (pip install "mlrig[learners]"): categories split natively,
missing values routed by the trees, and the number of trees found by early stopping on a
validation part of each fit's own rows rather than fixed.

XGBoost reads the same pandas categoricals LightGBM does (CategoryCodes); CatBoost reads the
categories as text (missing as "__missing__") and target-encodes them itself, in order, so no
categorical is wide for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import train_test_split

MAX_TREES = 1000
STOP_AFTER = 50  # rounds without a better validation loss
VALIDATION = 0.1
MISSING = "__missing__"


class AsText(BaseEstimator, TransformerMixin):
    """Categorical columns as text for CatBoost, missing ones (None or NaN) as MISSING."""

    def fit(self, x: pd.DataFrame, y: Any = None) -> AsText:
        self.feature_names_in_ = np.asarray(list(x.columns), dtype=object)
        return self

    def transform(self, x: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame(x, columns=self.feature_names_in_)
        return frame.astype(object).where(frame.notna(), MISSING).astype(str)

    def get_feature_names_out(self, names: Any = None) -> np.ndarray:
        return self.feature_names_in_


class EarlyStopped(BaseEstimator):
    """A booster fitted with at most MAX_TREES trees, stopped once the loss on a seeded tenth of
    its rows (stratified for classes) has not improved for STOP_AFTER rounds; then refitted on
    every row with the tree count found. kind: xgboost or catboost."""

    def __init__(self, kind: str = "xgboost", task: str = "binary", seed: int = 0,
                 threads: int = 1, **params: Any) -> None:  # fmt: skip
        self.kind = kind
        self.task = task
        self.seed = seed
        self.threads = threads
        self.params = params

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"kind": self.kind, "task": self.task, "seed": self.seed,
                "threads": self.threads, **self.params}  # fmt: skip

    def set_params(self, **params: Any) -> EarlyStopped:
        for key in ("kind", "task", "seed", "threads"):
            if key in params:
                setattr(self, key, params.pop(key))
        self.params = {**self.params, **params}
        return self

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> EarlyStopped:
        classification = self.task != "regression"
        if classification:  # the boosters want classes 0..k-1: a fold may miss one
            self.classes_ = np.unique(y)
            y = np.searchsorted(self.classes_, y)
        trees = self._trees(x, y, classification)
        self.model_ = self._make(trees, classification)
        self._fit(self.model_, x, y)
        self.n_trees_ = trees
        return self

    def _trees(self, x: pd.DataFrame, y: np.ndarray, classification: bool) -> int:
        strata = y if classification and np.unique(y, return_counts=True)[1].min() >= 2 else None
        try:
            x_fit, x_val, y_fit, y_val = train_test_split(
                x, y, test_size=VALIDATION, random_state=self.seed, stratify=strata
            )
        except ValueError:  # too few rows to hold any out: the cap
            return MAX_TREES
        if classification and set(np.unique(y_val)) - set(np.unique(y_fit)):
            return MAX_TREES
        probe = self._make(MAX_TREES, classification, stop=True)
        self._fit(probe, x_fit, y_fit, (x_val, y_val))
        best = probe.best_iteration if self.kind == "xgboost" else probe.get_best_iteration()
        return max(int(best or 0) + 1, 1)

    def _make(self, trees: int, classification: bool, stop: bool = False) -> Any:
        if self.kind == "xgboost":
            import xgboost

            cls = xgboost.XGBClassifier if classification else xgboost.XGBRegressor
            extra = {"early_stopping_rounds": STOP_AFTER} if stop else {}
            return cls(n_estimators=trees, enable_categorical=True, tree_method="hist",
                       random_state=self.seed, n_jobs=self.threads, verbosity=0,
                       **extra, **self.params)  # fmt: skip
        import catboost

        cls = catboost.CatBoostClassifier if classification else catboost.CatBoostRegressor
        extra = {"early_stopping_rounds": STOP_AFTER} if stop else {}
        return cls(iterations=trees, random_seed=self.seed, thread_count=self.threads,
                   verbose=False, allow_writing_files=False, **extra, **self.params)  # fmt: skip

    def _fit(self, model: Any, x: pd.DataFrame, y: np.ndarray, val: Any = None) -> None:
        if self.kind == "xgboost":
            val = (_whole_codes(val[0]), val[1]) if val else None
            model.fit(_whole_codes(x), y, **({"eval_set": [val], "verbose": False} if val else {}))
            return
        cats = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
        model.fit(x, y, cat_features=cats, **({"eval_set": val} if val else {}))

    def contributions(self, x: pd.DataFrame) -> np.ndarray:
        """The booster's own TreeSHAP values of rows, the base last: [rows, n + 1] for one
        output, [rows, classes, n + 1] for several. They add up to the raw output: log-odds
        (binary), each class's raw score (multiclass), the value (regression)."""
        if self.kind == "xgboost":
            import xgboost

            matrix = xgboost.DMatrix(_whole_codes(x), enable_categorical=True)
            return np.asarray(self.model_.get_booster().predict(matrix, pred_contribs=True))
        import catboost

        cats = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
        pool = catboost.Pool(x, cat_features=cats)
        return np.asarray(self.model_.get_feature_importance(pool, type="ShapValues"))

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(_whole_codes(x) if self.kind == "xgboost" else x)

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        if self.task == "regression":
            x = _whole_codes(x) if self.kind == "xgboost" else x
            return np.asarray(self.model_.predict(x), dtype=float)
        return self.classes_[np.argmax(self.predict_proba(x), axis=1)]


def _whole_codes(x: pd.DataFrame) -> pd.DataFrame:
    """CategoryCodes' categories are float codes; XGBoost takes whole numbers or text."""
    floats = [
        c
        for c in x.columns
        if isinstance(x[c].dtype, pd.CategoricalDtype) and x[c].cat.categories.dtype.kind == "f"
    ]
    if not floats:
        return x
    out = x.copy()
    for column in floats:
        out[column] = out[column].cat.rename_categories(out[column].cat.categories.astype("int64"))
    return out
