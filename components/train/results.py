"""What tuning returns: cross-validation results and the search's choice."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class CvResult:
    folds: list[dict[str, float]]
    oof_index: np.ndarray  # rows that were validated
    oof_score: np.ndarray  # their predictions (probabilities or values)
    fold_sizes: list[int] = field(default_factory=list)  # rows of each fold, in order

    def summary(self) -> dict[str, float]:
        """cv_<metric>_mean / _std over the folds (NaN folds ignored)."""
        out: dict[str, float] = {}
        for name in self.folds[0] if self.folds else []:
            values = np.array([f[name] for f in self.folds], dtype=float)
            finite = values[np.isfinite(values)]
            out[f"cv_{name}_mean"] = float(finite.mean()) if finite.size else float("nan")
            out[f"cv_{name}_std"] = float(finite.std()) if finite.size else float("nan")
        return out


@dataclass
class SearchResult:
    name: str
    params: dict[str, Any]
    cv: dict[str, float]
    cv_scheme: str
    oof: CvResult
    trials: list[dict[str, Any]] = field(default_factory=list)
    best_trial: int = 0
    wide: list[str] = field(default_factory=list)  # the categoricals it target-encoded
    default_rule: str = ""  # how it fared against LightGBM defaults (against_default)
    members: list[Any] = field(default_factory=list)  # an ensemble's models (ensemble.Member)
    ensemble_rule: str = ""  # how the blend fared against the single choice
    budget: str = ""  # the tuning budget and what ended the search


def paired_se(ours: list[dict[str, float]], theirs: list[dict[str, float]], metric: str) -> float:
    """The standard error of the mean per-fold difference of two models on the same folds: the
    noise of their comparison (a fold that is hard for one is hard for the other, so the
    difference varies far less than either score). Folds either could not score are left out."""
    diffs = np.array(
        [a[metric] - b[metric] for a, b in zip(ours, theirs, strict=False)], dtype=float
    )
    diffs = diffs[np.isfinite(diffs)]
    if len(diffs) < 2:
        return float("inf")
    return float(np.std(diffs, ddof=1) / math.sqrt(len(diffs)))
