"""A function mapped once per distinct value gives what mapping it row by row gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlrig.components.contract.by_value import map_present


@pytest.mark.parametrize(
    "values",
    [
        ["b", "a", None, "b", np.nan, "a"],
        [3.0, 1.5, np.nan, 3.0],
        [1, 2, 2, 1],
        [True, False, None, True],
        [1, 1.0, True, "1", None],  # equal hashes, different text: row by row
        [],
    ],
)
def test_mapping_by_value_equals_mapping_by_row(values):
    series = pd.Series(values, dtype=object, index=range(10, 10 + len(values)))
    calls = []

    def text(v):
        calls.append(v)
        return str(v)

    got = map_present(series, text)
    expected = [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                for v in values]  # fmt: skip
    assert got.tolist() == expected and got.index.equals(series.index)
    if values and values[0] == "b":
        assert calls == ["b", "a"]  # once per distinct value
