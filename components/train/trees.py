"""How LightGBM fits. Its tree count: found by early stopping when the table's training part has
1,000 to 100,000 rows (and the fit itself at least 1,000), else a fixed 300 (`stops`). The
training part decides for all its fits, so a large table's tuning folds (a sample of it) grow
trees as its final fit does, and the learning rate tuned on them fits the final one. Its
histogram layout: row-wise for up to ROW_WISE_MAX_INPUTS inputs, else column-wise (`layout`).
core.fit calls set_up_lightgbm before every LightGBM fit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from mlrig.components.train.levels import LIGHTGBM_GROUP_ROWS, level_rows

# Early stopping where it is cheap and has rows to judge by. Measured on benchmarks/quality.py's
# tables (every fit stopping early): seattle_weather's accuracy went from 0.768 to 0.802 and fair's
# ROC-AUC from 0.732 to 0.734, while on the 262k-row demo it cost 3.3x the training time for a
# holdout ROC-AUC of 0.7217 against 0.7236 with 300 trees, and on cars (318 rows: a tenth held out
# is 32) it made RMSE worse. Elsewhere the fixed LIGHTGBM_TREES stay.
STOP_ROWS = (1_000, 100_000)
LIGHTGBM_TREES = 300
MAX_TREES = 2000
STOP_AFTER = 50  # rounds without a better validation loss
# Row-wise histograms up to this many inputs, column-wise past it. Both are deterministic (left
# to itself LightGBM picks one by timing both, so a busy machine changed the model). On the demo
# (28 inputs, native categoricals, gaps; 262,000 rows, 2 threads) a fit took 2.5-3.0 s row-wise
# against 3.8-4.3 s column-wise, at the same holdout ROC-AUC to five digits; on dense synthetic
# tables of 100 to 1,000 columns column-wise was 5-10 % faster.
ROW_WISE_MAX_INPUTS = 100


_TABLE_ROWS: ContextVar[int | None] = ContextVar("mlrig_training_rows", default=None)


@contextmanager
def for_table(rows: int) -> Iterator[None]:
    """Within: fits belong to a training part of `rows` rows (the train stage sets it)."""
    token = _TABLE_ROWS.set(rows)
    try:
        yield
    finally:
        _TABLE_ROWS.reset(token)


def stops(fit_rows: int) -> bool:
    """Whether a LightGBM fit of fit_rows rows finds its tree count by early stopping."""
    table = _TABLE_ROWS.get() or fit_rows
    return STOP_ROWS[0] <= fit_rows and STOP_ROWS[0] <= table <= STOP_ROWS[1]


def layout(inputs: int) -> dict[str, bool]:
    """LightGBM's histogram layout for a fit of `inputs` input columns."""
    row_wise = inputs <= ROW_WISE_MAX_INPUTS
    return {"force_row_wise": row_wise, "force_col_wise": not row_wise}


def set_up_lightgbm(pipe: Any, x: pd.DataFrame, y: np.ndarray) -> None:
    """The LightGBM at the end of pipe set for a fit on x, y: its layout, the rows a category
    group needs (levels.py) and its tree count."""
    model = pipe.steps[-1][1]
    model.set_params(**layout(x.shape[1]))
    model.set_params(min_data_per_group=level_rows(len(y), LIGHTGBM_GROUP_ROWS))
    if stops(len(y)):
        model.set_params(n_estimators=lightgbm_trees(pipe, x, y))


def lightgbm_trees(pipe: Any, x: pd.DataFrame, y: np.ndarray) -> int:
    """The tree count at which LightGBM's loss on a seeded tenth of these rows (stratified for
    classes) stopped improving, fitting the preprocessing on the other nine tenths."""
    import lightgbm
    from sklearn.model_selection import train_test_split

    model = pipe.steps[-1][1]
    classes = type(model).__name__ == "LGBMClassifier"
    strata = y if classes and np.unique(y, return_counts=True)[1].min() >= 2 else None
    seed = model.get_params()["random_state"]
    try:
        x_fit, x_val, y_fit, y_val = train_test_split(
            x, y, test_size=0.1, random_state=seed, stratify=strata
        )
    except ValueError:  # a class too rare to split: the fixed count
        return LIGHTGBM_TREES
    if classes and set(np.unique(y_val)) - set(np.unique(y_fit)):
        return LIGHTGBM_TREES
    prep = clone(pipe[:-1])
    seen, held = prep.fit_transform(x_fit, y_fit), prep.transform(x_val)
    probe = clone(model).set_params(n_estimators=MAX_TREES)
    stop = lightgbm.early_stopping(STOP_AFTER, verbose=False)
    probe.fit(seen, y_fit, eval_set=[(held, y_val)], callbacks=[stop])
    return max(int(probe.best_iteration_ or LIGHTGBM_TREES), 1)
