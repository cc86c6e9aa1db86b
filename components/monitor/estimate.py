"""Performance before labels: a binary classifier's ROC-AUC, accuracy and F1 estimated from its
predicted probabilities alone (confidence-based performance estimation, as NannyML's CBPE), and
the check that makes them worth trusting, the probabilities' calibration on the holdout.

If the probabilities are calibrated, a row scored p is positive with probability p. Then the
expected accuracy at threshold t is the mean of p where p >= t and of 1 - p elsewhere; the
expected confusion counts give F1; and the expected ROC-AUC is the expected share of
(positive, negative) pairs the scores order correctly: sum_i p_i * sum_{j: s_j < s_i} (1 - p_j)
(ties counted half) over sum_i p_i * sum_j (1 - p_j) - sum_i p_i (1 - p_i).
"""

from __future__ import annotations

import numpy as np

from mlrig.components.contract.metrics import calibration_error

__all__ = ["calibration_error", "estimated"]


def estimated(p: np.ndarray, threshold: float) -> dict[str, float]:
    """Expected ROC-AUC, accuracy and F1 of rows scored p (positive-class probabilities)."""
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    p = p[np.isfinite(p)]
    if len(p) == 0:
        return {}
    yes = p >= threshold
    tp, fp, fn = p[yes].sum(), (1 - p[yes]).sum(), p[~yes].sum()
    out = {
        "estimated_accuracy": float(np.where(yes, p, 1 - p).mean()),
        "estimated_f1": float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn > 0 else float("nan"),
    }
    auc = _expected_auc(p)
    if np.isfinite(auc):
        out["estimated_roc_auc"] = auc
    return out


def _expected_auc(p: np.ndarray) -> float:
    order = np.argsort(p, kind="stable")
    s = p[order]
    negative = 1 - s
    below = np.concatenate([[0.0], np.cumsum(negative)[:-1]])  # negatives scored lower
    # ties: pairs with an equal score count half, both ways
    _, first, counts = np.unique(s, return_index=True, return_counts=True)
    tie_neg = np.repeat(np.add.reduceat(negative, first), counts)
    start = np.repeat(below[first], counts)
    ordered = np.sum(s * (start + 0.5 * (tie_neg - negative)))
    pairs = s.sum() * negative.sum() - np.sum(s * negative)
    return float(ordered / pairs) if pairs > 0 else float("nan")
