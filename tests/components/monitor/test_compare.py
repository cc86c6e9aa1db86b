"""Two versions compared on the same rows: a paired bootstrap finds a known gap and shows none
between equals."""

from __future__ import annotations

import numpy as np

from mlrig.components.monitor.compare import _verdict, paired_interval


def _scores(y: np.ndarray, noise: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-(4 * (y - 0.5) + rng.normal(0, noise, len(y)))))
    return np.column_stack([1 - p, p])


def test_a_known_gap_is_found_and_its_interval_excludes_zero():
    y = (np.random.default_rng(0).random(2000) < 0.4).astype(int)
    sharp, blurred = _scores(y, 1.0, 1), _scores(y, 4.0, 2)
    diff, low, high = paired_interval(y, sharp, blurred, "binary", "roc_auc")
    assert 0 < low <= diff <= high
    assert (
        _verdict(diff, low, high, "roc_auc", 2, 1)
        == "v2 is better on roc_auc (the 95 % interval excludes 0)"
    )


def test_equal_versions_show_no_difference():
    y = (np.random.default_rng(3).random(500) < 0.5).astype(int)
    same = _scores(y, 2.0, 4)
    diff, low, high = paired_interval(y, same, same, "binary", "roc_auc")
    assert diff == low == high == 0
    assert _verdict(diff, low, high, "roc_auc", 2, 1).startswith("no difference shown")


def test_an_error_metric_counts_lower_as_better():
    rng = np.random.default_rng(5)
    y = rng.normal(size=1000)
    close, far = y + rng.normal(0, 0.1, 1000), y + rng.normal(0, 1.0, 1000)
    diff, low, high = paired_interval(y, close, far, "regression", "rmse")
    assert high < 0  # the challenger's RMSE is lower
    assert _verdict(-diff, low, high, "rmse", 2, 1).startswith("v2 is better on rmse")
