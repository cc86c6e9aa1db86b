"""mlrig's own ROC-AUC gives scikit-learn's value (ties, imbalance, one-vs-rest)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mlrig.components.contract.metrics import binary_auc, holdout_metrics, ovr_auc


@pytest.mark.parametrize("rows, positives, levels", [(500, 0.5, None), (997, 0.03, None),
                                                      (400, 0.3, 7), (60, 0.5, 2)])  # fmt: skip
def test_binary_auc_equals_scikit_learns(rows, positives, levels):
    rng = np.random.default_rng(rows)
    y = rng.random(rows) < positives
    score = rng.random(rows) + 0.3 * y
    if levels:  # many tied scores, as a tree model's leaves give
        score = np.round(score * levels) / levels
    assert binary_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_one_sided_truth_is_nan_and_nan_scores_are_refused():
    assert np.isnan(binary_auc(np.zeros(5, bool), np.arange(5.0)))
    with pytest.raises(ValueError, match="NaN"):
        binary_auc(np.array([0, 1, 1], bool), np.array([0.1, np.nan, 0.3]))


def test_one_vs_rest_is_the_macro_mean_over_classes_present():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 300)
    proba = rng.dirichlet(np.ones(4), 300)  # a fourth class the holdout never holds
    expected = np.mean([roc_auc_score(y == c, proba[:, c]) for c in range(3)])
    assert ovr_auc(y, proba) == pytest.approx(expected, abs=1e-12)
    binary = np.c_[1 - proba[:, 0], proba[:, 0]]
    got = holdout_metrics((y == 0).astype(int), binary, "binary", only="roc_auc")["roc_auc"]
    assert got == pytest.approx(roc_auc_score(y == 0, proba[:, 0]), abs=1e-12)
