"""The decision threshold of a binary classifier, chosen on out-of-fold predictions."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve

from mlrig.components.config.schema import Threshold


def choose(y: np.ndarray, p: np.ndarray, rule: Threshold) -> tuple[float, str]:
    """(threshold, how it was chosen). y: 0/1, p: probability of the positive class."""
    if rule.rule == "fixed" or len(np.unique(y)) < 2:
        return rule.value, f"fixed at {rule.value}"
    precision, recall, cuts = precision_recall_curve(y, p)
    precision, recall = precision[:-1], recall[:-1]  # aligned with cuts
    if rule.rule == "max_f1":
        f1 = 2 * precision * recall / np.clip(precision + recall, 1e-12, None)
        i = int(np.argmax(f1))
        return float(cuts[i]), f"max F1 {f1[i]:.4f} on out-of-fold predictions"
    if rule.rule == "precision":
        ok = np.flatnonzero(precision >= rule.value)
        if not ok.size:
            return 0.5, f"precision {rule.value} is out of reach; 0.5 kept"
        i = int(ok[np.argmax(recall[ok])])
        return float(
            cuts[i]
        ), f"precision {precision[i]:.4f} ≥ {rule.value}, recall {recall[i]:.4f}"
    if rule.rule == "recall":
        ok = np.flatnonzero(recall >= rule.value)
        i = int(ok[np.argmax(precision[ok])])
        return float(
            cuts[i]
        ), f"recall {recall[i]:.4f} ≥ {rule.value}, precision {precision[i]:.4f}"
    positives = y.sum()
    tp = recall * positives
    fp = np.where(precision > 0, tp / np.clip(precision, 1e-12, None) - tp, len(y) - positives)
    fn = positives - tp
    cost = rule.cost_fp * fp + rule.cost_fn * fn
    i = int(np.argmin(cost))
    return float(cuts[i]), f"lowest cost {cost[i]:.1f} (fp × {rule.cost_fp}, fn × {rule.cost_fn})"
