"""A linear model answers past the numbers training saw as at their edge, like a tree does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlrig.components.contract.compiled_model import compile_one
from mlrig.components.train.core import build_pipeline
from mlrig.components.train.ranges import TrainingRange


def test_numbers_are_held_to_the_training_range_and_missing_ones_pass():
    fitted = TrainingRange().fit(pd.DataFrame({"a": [1.0, 5.0, np.nan], "b": [np.nan] * 3}))
    out = fitted.transform(
        pd.DataFrame({"a": [-3.0, 9.0, np.nan, 2.0], "b": [7.0, np.nan, 1.0, 0.0]})
    )
    np.testing.assert_array_equal(out[:, 0], [1.0, 5.0, np.nan, 2.0])
    np.testing.assert_array_equal(out[:, 1], [7.0, np.nan, 1.0, 0.0])  # all missing in training


def test_a_ridge_scored_far_past_its_years_answers_as_at_the_last_year():
    years = pd.DataFrame({"year": np.arange(2000, 2020, dtype=float), "x": np.ones(20)})
    y = 10.0 * (years["year"] - 2000)
    model = build_pipeline("ridge", "regression", ["year", "x"], [], 0).fit(years, y)
    later = pd.DataFrame({"year": [2019.0, 2030.0, 2100.0], "x": [1.0, 1.0, 1.0]})
    first, *rest = model.predict(later)
    assert rest == [first, first]
    compiled, why = compile_one(model, "regression", ["year", "x"], [], 0)
    assert compiled is not None, why
    one = compiled.predict(compiled.vector({"year": 2100.0, "x": 1.0}))[0]
    assert one == first  # the one-row path clips alike
