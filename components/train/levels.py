"""How many rows a categorical level needs to count as a level of its own in a fit.

One-hot (the linear models) keeps levels of 20 rows or more, and LightGBM splits categories only
into groups of 100 rows or more (its min_data_per_group). On a small table no level has that many:
on barley's 120 plots (six sites, ten varieties: 10-13 rows of each site in a CV fold) every
model ignored every category, and the CV's RMSE was the target's own spread. A fit of n rows
asks a level for a twentieth of them instead, at least MIN_LEVEL_ROWS, and the fixed counts once
n is large enough to give them.
"""

from __future__ import annotations

MIN_LEVEL_ROWS = 5
ONEHOT_LEVEL_ROWS = 20
LIGHTGBM_GROUP_ROWS = 100  # LightGBM's own default


def level_rows(rows: int, most: int) -> int:
    """The rows a level needs in a fit of `rows` rows, where `most` is the large-fit count."""
    return max(MIN_LEVEL_ROWS, min(most, rows // 20))
