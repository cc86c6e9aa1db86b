"""LightGBM's histogram layout (by row for narrow inputs) and tree count: early stopping on fits
of 1,000 to 100,000 rows (fewer trees where the signal is learned fast, more where it is learned
slowly), a fixed 300 on smaller fits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlrig.components.train.core import build_pipeline, fit
from mlrig.components.train.trees import LIGHTGBM_TREES, MAX_TREES


def _rows(n: int, noise: float, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice(["x", "y", "z"], n)})  # fmt: skip
    signal = np.sin(2 * x["a"]) + x["b"] * (x["c"] == "x")
    return x, (signal + rng.normal(scale=noise, size=n)).to_numpy()


def _trees(n: int, noise: float, learning_rate: float) -> int:
    x, y = _rows(n, noise)
    pipe = build_pipeline("lightgbm", "regression", ["a", "b"], ["c"], 0,
                          params={"learning_rate": learning_rate})  # fmt: skip
    return fit(pipe, x, y).steps[-1][1].booster_.num_trees()


def test_a_fast_learned_noisy_signal_stops_well_before_the_fixed_count():
    assert _trees(3000, noise=2.0, learning_rate=0.3) < LIGHTGBM_TREES / 3


def test_a_slowly_learned_clean_signal_grows_past_the_fixed_count():
    assert LIGHTGBM_TREES < _trees(3000, noise=0.05, learning_rate=0.02) <= MAX_TREES


def test_a_small_fit_keeps_the_fixed_count():
    assert _trees(500, noise=2.0, learning_rate=0.3) == LIGHTGBM_TREES


def test_a_classifier_holds_out_every_class_and_stops():
    x, y = _rows(2000, noise=0.5)
    labels = np.digitize(y, [-0.5, 0.5])  # three classes
    pipe = build_pipeline("lightgbm", "multiclass", ["a", "b"], ["c"], 0,
                          params={"learning_rate": 0.3})  # fmt: skip
    model = fit(pipe, x, labels).steps[-1][1]
    assert model.n_estimators < LIGHTGBM_TREES and list(model.classes_) == [0, 1, 2]


def test_a_large_tables_small_folds_grow_the_fixed_count_as_its_final_fit_does():
    from mlrig.components.train.trees import for_table

    with for_table(262_000):  # the demo's training part: tuned on a sample, fitted on all
        assert _trees(3000, noise=2.0, learning_rate=0.3) == LIGHTGBM_TREES
    with for_table(20_000):
        assert _trees(3000, noise=2.0, learning_rate=0.3) < LIGHTGBM_TREES / 3


def test_a_narrow_fit_builds_histograms_by_row_and_a_wide_one_by_column():
    x, y = _rows(1500, noise=0.5)
    pipe = build_pipeline("lightgbm", "regression", ["a", "b"], ["c"], 0)
    params = fit(pipe, x, y).steps[-1][1].get_params()
    assert params["force_row_wise"] is True and params["force_col_wise"] is False
    wide = pd.concat([x] + [x[["a"]].rename(columns={"a": f"a{i}"}) for i in range(120)], axis=1)
    numeric = [c for c in wide.columns if c != "c"]
    pipe = build_pipeline("lightgbm", "regression", numeric, ["c"], 0)
    params = fit(pipe, wide, y).steps[-1][1].get_params()
    assert params["force_col_wise"] is True and params["force_row_wise"] is False


def test_the_same_fit_twice_gives_the_same_model():
    x, y = _rows(5000, noise=0.5)
    first, second = (fit(build_pipeline("lightgbm", "regression", ["a", "b"], ["c"], 3), x, y)
                     for _ in range(2))  # fmt: skip
    np.testing.assert_array_equal(first.predict(x), second.predict(x))
