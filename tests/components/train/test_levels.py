import numpy as np
import pandas as pd
import pytest

from mlrig.components.train.core import build_pipeline, fit
from mlrig.components.train.levels import level_rows


def _plots(n: int = 90) -> tuple[pd.DataFrame, np.ndarray]:
    """Barley-shaped: six sites of 15 plots each, the yield set by the site, one noisy number."""
    rng = np.random.default_rng(0)
    site = np.repeat(["a", "b", "c", "d", "e", "f"], n // 6)
    level = dict(zip("abcdef", [20.0, 50.0, 30.0, 45.0, 25.0, 40.0], strict=True))
    x = pd.DataFrame({"site": pd.Categorical(site), "noise": rng.normal(size=n)})
    return x, np.array([level[s] for s in site]) + rng.normal(0, 2, n)


@pytest.mark.parametrize("name", ["ridge", "lightgbm"])
def test_a_small_tables_levels_are_learned_where_each_has_fifteen_rows(name):
    """One-hot kept levels of 20 rows and LightGBM grouped categories of 100 rows: both had
    predicted every site's mean alike (an R2 near 0)."""
    x, y = _plots()
    pipe = build_pipeline(name, "regression", ["noise"], ["site"], 0)
    fit(pipe, x, y)
    predicted = pipe.predict(x)
    r2 = 1 - ((y - predicted) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert r2 > 0.9


def test_a_level_needs_a_twentieth_of_a_small_fits_rows_and_the_fixed_count_past_that():
    assert level_rows(60, 20) == 5  # never fewer than five
    assert level_rows(200, 20) == 10
    assert level_rows(40_000, 20) == 20 and level_rows(40_000, 100) == 100
