"""Numbers held to the range training saw, before a linear model reads them.

A linear model extends every slope past the data: a count of days since an entity's last event,
or a year, that keeps growing after training moves its answer without bound (a yearly panel
scored four years ahead: RMSE 1,650 where the table's spread is a few hundred). Trees already
answer past the range as at its edge; this makes linear models do the same. Missing values pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class TrainingRange(TransformerMixin, BaseEstimator):
    """Clips each column to the [min, max] it had in fit (columns all missing: left as they are)."""

    def fit(self, x: Any, y: Any = None) -> TrainingRange:
        values = np.asarray(x, dtype=float)
        self.low_ = np.fmin.reduce(values, axis=0)  # fmin/fmax skip NaN, and copy nothing
        self.high_ = np.fmax.reduce(values, axis=0)
        empty = np.isnan(self.low_)  # all missing in training: no range to hold to
        self.low_[empty], self.high_[empty] = -np.inf, np.inf
        self.n_features_in_ = values.shape[1]
        if hasattr(x, "columns"):
            self.feature_names_in_ = np.asarray(list(x.columns), dtype=object)
        return self

    def transform(self, x: Any) -> np.ndarray:
        values = np.array(x, dtype=float)  # a copy, clipped in place
        return np.clip(values, self.low_, self.high_, out=values)

    def get_feature_names_out(self, names: Any = None) -> np.ndarray:
        return np.asarray(
            getattr(self, "feature_names_in_", names if names is not None else []), dtype=object
        )
