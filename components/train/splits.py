"""The holdout split (the latest times, or a seeded random one) and the CV folds (forward-chaining
when there is an event time, else shuffled k-fold).

Without an event time, rows that share an entity key (a traveller's four modes, a patient's
visits) are held out and folded together: split row by row, a key's other rows in training told
the model about its rows in the holdout (on statsmodels' mode choice, where each traveller picks
one of four modes, three rows of a traveller in training name the fourth).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    train_test_split,
)


@dataclass
class Split:
    train: pd.DataFrame
    holdout: pd.DataFrame
    how: str  # "events from <cutoff>" or "random 20 % (seed 42)"
    whole: pd.DataFrame | None = None  # every row, training's then the holdout's, when held once
    train_groups: np.ndarray | None = None  # the training part's entities, when held out whole

    @property
    def grouped(self) -> bool:
        """Whether each entity's rows are on one side."""
        return self.train_groups is not None

    def all_rows(self) -> pd.DataFrame:
        """Every row, training's first: the time split's one table, else the two joined."""
        if self.whole is not None:
            return self.whole
        return pd.concat([self.train, self.holdout], ignore_index=True)


def time_split(frame: pd.DataFrame, ts_col: str, holdout_fraction: float) -> Split:
    """Holdout = the latest events; training = everything strictly before the cutoff. The rows
    are held once, in time order: both sides are slices of it, not copies (on ten million
    rows, each copy of the table is gigabytes)."""
    ordered = frame.sort_values(ts_col, kind="stable", ignore_index=True)
    cutoff = ordered[ts_col].iloc[int(len(ordered) * (1 - holdout_fraction))]
    before = int((ordered[ts_col] < cutoff).sum())  # sorted: the first rows are the earlier
    train, holdout = _slice(ordered, 0, before), _slice(ordered, before, len(ordered))
    if train.empty or holdout.empty:
        raise ValueError("time split left an empty side: too few distinct event times")
    return Split(train, holdout, f"events from {cutoff.isoformat()}", ordered)


def _slice(frame: pd.DataFrame, start: int, stop: int) -> pd.DataFrame:
    """Rows start:stop of frame numbered from 0, sharing frame's data."""
    part = frame.iloc[start:stop]
    part.index = pd.RangeIndex(stop - start)
    return part


def group_ids(frame: pd.DataFrame, keys: list[str], parts: int) -> np.ndarray | None:
    """Each row's group (its entity keys' values together), or None where no key repeats or the
    keys take too few values to give `parts` parts whole groups."""
    if not keys or not frame.duplicated(keys).any():
        return None
    ids = frame.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    return ids if ids.max() + 1 >= parts else None


def fold_groups(split: Split, folds: int) -> np.ndarray | None:
    """The training part's groups for CV folds of whole entities, or None where the split was
    by row or the training part holds fewer entities than folds."""
    groups = split.train_groups
    return groups if groups is not None and len(np.unique(groups)) >= folds else None


def _grouped(task_has_classes: bool, parts: int, seed: int) -> Any:
    kind = StratifiedGroupKFold if task_has_classes else GroupKFold
    return kind(n_splits=parts, shuffle=True, random_state=seed)


def random_split(
    frame: pd.DataFrame,
    y: np.ndarray | None,
    fraction: float,
    seed: int,
    groups: np.ndarray | None = None,
) -> Split:
    """A seeded random holdout, stratified by class when y is given (classification); with
    groups, whole groups: one part in round(1 / fraction), drawn as a group k-fold's first fold."""
    if groups is not None:
        split = _grouped(y is not None, max(2, round(1 / fraction)), seed)
        kept, held = next(split.split(frame, y, groups))
        share = len(held) / len(frame)
        how = f"random {share:.0%} of the entities (seed {seed}), each one's rows together"
        train, holdout = frame.iloc[kept], frame.iloc[held]
        return Split(
            train.reset_index(drop=True),
            holdout.reset_index(drop=True),
            how,
            train_groups=groups[kept],
        )
    strat = y if y is not None and np.bincount(y).min() >= 2 else None
    train, holdout = train_test_split(
        frame, test_size=fraction, random_state=seed, stratify=strat, shuffle=True
    )
    how = f"random {fraction:.0%} (seed {seed}{', stratified' if strat is not None else ''})"
    return Split(train.reset_index(drop=True), holdout.reset_index(drop=True), how)


FIRST_FIT_ROWS = 1_000  # the first forward-chaining fold's rows, where the table has them


class ForwardChaining:
    """Time-ordered CV: the rows sorted by time are cut into folds+1 blocks (never splitting one
    timestamp); fold i validates on block i+1 after training on every earlier block. The first
    block holds at least FIRST_FIT_ROWS rows, or half the rows when there are fewer than twice
    that, and the rest are cut evenly: a small table's first fold then fits on enough rows to be
    the model the final fit makes (a quarter of 216 cars is 54 rows, too few for LightGBM's
    default leaves of 20 rows: its default parameters were judged by a fold they could hardly
    split). Past 4,000 rows (three folds) the blocks are the even quarters."""

    def __init__(self, times: pd.Series, folds: int) -> None:
        utc = pd.to_datetime(times, utc=True).dt.tz_localize(None)  # datetime64, not objects
        self.times = utc.to_numpy(dtype="datetime64[ns]")
        self.folds = folds

    def get_n_splits(self, *_: Any, **__: Any) -> int:
        return len(list(self.split()))

    def split(self, *_: Any, **__: Any) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        order = np.argsort(self.times, kind="stable")
        ordered = self.times[order]
        n = len(order)
        first = max(n / (self.folds + 1), min(n / 2, FIRST_FIT_ROWS))
        edges = []
        for i in range(self.folds):
            pos = int(first + (n - first) * i / self.folds)
            edges.append(np.searchsorted(ordered, ordered[min(pos, n - 1)], side="left"))
        edges.append(n)
        for start, stop in zip(edges[:-1], edges[1:], strict=True):
            if start > 0 and stop > start:
                yield order[:start], order[start:stop]


class GroupedFolds:
    """Shuffled k-fold (stratified for classes) that keeps each group's rows in one fold."""

    def __init__(self, groups: np.ndarray, folds: int, seed: int, classes: bool) -> None:
        self.groups, self.splitter = groups, _grouped(classes, folds, seed)

    def get_n_splits(self, *_: Any, **__: Any) -> int:
        return self.splitter.get_n_splits()

    def split(self, x: Any, y: Any = None, *_: Any) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return self.splitter.split(x, y, self.groups)


def cv_splitter(
    task: str,
    folds: int,
    seed: int,
    times: pd.Series | None,
    groups: np.ndarray | None = None,
) -> Any:
    """Forward-chaining folds when there is an event time, else shuffled (stratified) k-fold,
    each group's rows in one fold when there are groups."""
    if times is not None:
        return ForwardChaining(times, folds)
    if groups is not None:
        return GroupedFolds(groups, folds, seed, task != "regression")
    if task != "regression":
        return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return KFold(n_splits=folds, shuffle=True, random_state=seed)


def cv_scheme(folds: int, timed: bool, grouped: bool = False) -> str:
    if timed:
        return f"{folds}-fold forward-chaining (time)"
    return f"{folds}-fold shuffled" + (", each entity's rows in one fold" if grouped else "")
