"""The holdout split and the CV folds."""

from __future__ import annotations

import pandas as pd

from mlrig.components.train.splits import ForwardChaining, random_split


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
