"""How many days a champion has answered since it began or since the last retrain started."""

from __future__ import annotations

import pandas as pd

from mlrig.components.config.loader import load
from mlrig.components.monitor import retrains
from tests.anytable.shop import write_shop

DAY = pd.Timedelta(days=1)
FIRST = pd.Timestamp("2013-06-01", tz="UTC")


def test_days_count_from_the_first_request_until_a_retrain_starts():
    assert retrains.days_served(FIRST, FIRST + 9 * DAY, None) == 9.0
    assert retrains.days_served(FIRST, FIRST + 9 * DAY, FIRST - DAY) == 9.0  # before this one


def test_days_count_again_from_the_last_retrain_that_started():
    assert retrains.days_served(FIRST, FIRST + 9 * DAY, FIRST + 8.5 * DAY) == 0.5
    assert retrains.days_served(FIRST, FIRST + 9 * DAY, FIRST + 12 * DAY) == 0.0


def test_the_last_start_is_kept_in_the_work_folder(tmp_path):
    loaded = load(write_shop(tmp_path, customers=20))
    assert retrains.last_started(loaded.workdir) is None
    retrains.record_start(loaded.workdir, None)  # nothing logged: nothing to count from
    assert retrains.last_started(loaded.workdir) is None
    retrains.record_start(loaded.workdir, "2013-06-09T18:00:00+00:00")
    assert retrains.last_started(loaded.workdir) == pd.Timestamp("2013-06-09 18:00", tz="UTC")
