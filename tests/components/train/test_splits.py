"""The holdout split and the CV folds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlrig.components.train.splits import (
    ForwardChaining,
    cv_scheme,
    cv_splitter,
    group_ids,
    random_split,
)


def test_forward_chaining_folds_train_only_on_the_past():
    times = pd.Series(pd.date_range("2013-01-01", periods=40, freq="D", tz="UTC").repeat(3))
    shuffled = times.sample(frac=1, random_state=0).reset_index(drop=True)
    folds = list(ForwardChaining(shuffled, 3).split())
    assert len(folds) == 3
    for train, test in folds:
        assert shuffled[train].max() < shuffled[test].min()  # never a future row in training
        assert not set(shuffled[train]) & set(shuffled[test])  # one timestamp, one side


def test_random_split_is_seeded_and_stratified():
    frame = pd.DataFrame({"y": [0] * 80 + [1] * 20, "x": range(100)})
    a = random_split(frame, frame.y.to_numpy(), 0.2, seed=7)
    b = random_split(frame, frame.y.to_numpy(), 0.2, seed=7)
    assert a.holdout.x.tolist() == b.holdout.x.tolist()
    assert a.holdout.y.sum() == 4 and "stratified" in a.how


def test_a_small_tables_first_forward_chaining_fold_fits_on_half_its_rows():
    """216 rows: the first fold fits on 108 (a quarter, 54, is too few to be the final model),
    the other half is cut in three; 8,000 rows: the even quarters, 2,000 rows each."""
    small = pd.Series(pd.date_range("1970-01-01", periods=216, freq="D", tz="UTC"))
    assert [(len(a), len(b)) for a, b in ForwardChaining(small, 3).split()] == [
        (108, 36),
        (144, 36),
        (180, 36),
    ]
    large = pd.Series(pd.date_range("2013-01-01", periods=8000, freq="h", tz="UTC"))
    assert [len(a) for a, _ in ForwardChaining(large, 3).split()] == [2000, 4000, 6000]
    between = pd.Series(pd.date_range("2013-01-01", periods=3000, freq="h", tz="UTC"))
    assert [len(a) for a, _ in ForwardChaining(between, 3).split()] == [1000, 1666, 2333]


def _travellers(n: int = 60, modes: int = 4) -> tuple[pd.DataFrame, np.ndarray]:
    """Mode choice's shape: each traveller's rows, one per mode, exactly one of them chosen."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"traveller": np.repeat(np.arange(n), modes),
                          "cost": rng.normal(size=n * modes)})  # fmt: skip
    chosen = rng.integers(0, modes, n)
    y = (np.tile(np.arange(modes), n) == np.repeat(chosen, modes)).astype(int)
    return frame, y


def test_an_entitys_rows_are_held_out_and_folded_together_without_an_event_time():
    frame, y = _travellers()
    frame["chosen"] = y
    groups = group_ids(frame, ["traveller"], parts=5)
    split = random_split(frame, y, 0.2, seed=42, groups=groups)
    held, kept = set(split.holdout.traveller), set(split.train.traveller)
    assert split.grouped and held and not held & kept
    assert len(split.holdout) == 4 * len(held)  # every row of a held traveller
    assert "each one's rows together" in split.how
    train_groups = group_ids(split.train, ["traveller"], parts=3)
    y_train = split.train.chosen.to_numpy()
    folds = list(cv_splitter("binary", 3, 0, None, train_groups).split(split.train, y_train))
    assert len(folds) == 3
    for fit_rows, scored in folds:
        assert not set(train_groups[fit_rows]) & set(train_groups[scored])
    assert (
        cv_scheme(3, timed=False, grouped=True) == "3-fold shuffled, each entity's rows in one fold"
    )


def test_rows_are_split_one_by_one_where_no_key_repeats_or_too_few_keys_exist():
    frame, _ = _travellers()
    once = frame.drop_duplicates("traveller")
    assert group_ids(once, ["traveller"], parts=5) is None  # a snapshot: one row a key
    assert group_ids(frame, [], parts=5) is None  # no entity
    assert group_ids(frame[frame.traveller < 3], ["traveller"], parts=5) is None  # three keys
    assert group_ids(frame, ["traveller"], parts=5).max() == 59
