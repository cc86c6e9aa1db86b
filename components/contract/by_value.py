"""A Python function over a column, called once per distinct value instead of once per row.

Categories, codes and flags repeat: a million flights hold a few thousand tail numbers and
three airports. Typing them value by value (str(), a bool word's lookup) cost seconds a batch
where the model's own predict took as long; pandas' factorize finds the distinct values in
one hashed pass and the answers are spread back by their codes.

Equal values of different types hash alike (1, 1.0 and True are one key), where str() tells
them apart: a column mixing types is mapped row by row, as before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

ONE_TYPE = {"string", "integer", "floating", "boolean", "empty", "datetime", "date", "bytes"}


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def map_present(series: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """fn of each present value (None, NaN and NaT are missing and give None), as an object
    Series on the same index."""
    values = series.astype(object)
    if pd.api.types.infer_dtype(values, skipna=True) not in ONE_TYPE:
        return values.map(lambda v: None if _missing(v) else fn(v)).astype(object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    answers = np.empty(len(uniques), dtype=object)
    answers[:] = [fn(value) for value in uniques]
    out = np.full(len(series), None, dtype=object)
    present = codes >= 0
    out[present] = answers[codes[present]]
    return pd.Series(out, index=series.index, dtype=object)
