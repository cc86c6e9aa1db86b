"""The one time rule: zoned values keep their instant, naive ones (a date alone included) are
read in the dataset's zone; replay months start at local midnight."""

from __future__ import annotations

import pandas as pd

from mlrig.components.contract.timeutil import to_utc, unix_times
from mlrig.pipelines.replay import month_starts

NY = "America/New_York"


def test_a_date_alone_is_naive_and_read_in_the_zone():
    got = to_utc(pd.Series(["2024-09-15", "2024-09-15T00:00:00", "2013/01/02"]), NY)
    assert [str(t) for t in got] == [
        "2024-09-15 04:00:00+00:00",
        "2024-09-15 04:00:00+00:00",
        "2013-01-02 05:00:00+00:00",
    ]


def test_offsets_after_a_time_of_day_are_zoned():
    values = ["2024-09-15T00:00Z", "2024-09-15 00:00:00.5+01:00", "2024-09-15T00:00-05", None]
    got = to_utc(pd.Series(values), NY)
    assert [str(t) for t in got[:3]] == [
        "2024-09-15 00:00:00+00:00",
        "2024-09-14 23:00:00.500000+00:00",
        "2024-09-15 05:00:00+00:00",
    ]
    assert pd.isna(got[3])


def test_replay_months_start_at_local_midnight():
    start = pd.Timestamp("2024-09-14 20:00", tz=NY)
    end = pd.Timestamp("2024-11-26 20:00", tz=NY)
    assert [str(t) for t in month_starts(start, end)] == [
        "2024-09-14 20:00:00-04:00",
        "2024-10-01 00:00:00-04:00",
        "2024-11-01 00:00:00-04:00",
        "2024-11-26 20:00:00-05:00",
    ]


def test_dates_written_day_first_are_read_day_first_throughout_their_column():
    """13/01/2023 shows the day comes first: 05/01/2023 beside it is 5 January, not 1 May (read
    one by one, the same column held both readings). Month-first columns stay month first."""
    european = to_utc(pd.Series(["05/01/2023", "13/01/2023", "13.02.2023 10:00", "2023-03-01"]),
                      "UTC")  # fmt: skip
    assert [str(t.date()) for t in european] == ["2023-01-05", "2023-01-13", "2023-02-13",
                                                 "2023-03-01"]  # fmt: skip
    american = to_utc(pd.Series(["05/01/2023", "01/13/2023"]), "UTC")
    assert [str(t.date()) for t in american] == ["2023-05-01", "2023-01-13"]


def test_an_epoch_column_reads_numbers_as_unix_times_and_text_times_as_before():
    values = pd.Series([1_672_531_200, "1672531201", 1_672_531_200.5, "2023-01-01T05:00", None,
                        True, "soon", 1e20], dtype=object)  # fmt: skip
    got = to_utc(values, NY, "s")
    assert [str(t) for t in got[:4]] == [
        "2023-01-01 00:00:00+00:00",
        "2023-01-01 00:00:01+00:00",
        "2023-01-01 00:00:00.500000+00:00",
        "2023-01-01 10:00:00+00:00",  # naive text: still read in the dataset's zone
    ]
    assert got[4:].isna().all()  # missing, a bool, not a time, past 2262: NaT (validate says)
    ms = to_utc(pd.Series([1_672_531_200_123]), "UTC", "ms")
    assert unix_times(ms, "ms").tolist() == [1_672_531_200_123]  # and back, exactly


def test_without_an_epoch_numbers_are_not_times():
    assert to_utc(pd.Series([1_672_531_200], dtype=object), NY).isna().all()


COLUMNS = {  # ISO text read in one call where the element-wise rules would read it the same
    "naive": ["2024-03-31 01:30", "2024-03-31 02:30", "2024-10-27 02:30", "2024-01-01", None],
    "zulu": ["2024-01-01T10:00:00Z", "2024-06-01T10:00:00.123456Z", None],
    "offsets": ["2024-01-01T10:00+01:00", "2024-01-02T10:00+02:00", "2024-01-03T10:00-0530"],
    "zoned and naive": ["2024-01-01T10:00+01:00", "2024-07-01 10:00", "2024-02-01"],
    "nanoseconds": ["2024-01-01 10:11:12.123456789", "2024-01-01 10:11:12"],
    "not all iso": ["2024-01-01", "13/01/2024", "not a time", "3000-01-01"],
}


def test_iso_text_at_once_reads_as_value_by_value():
    from mlrig.components.contract.timeutil import _element_wise, _iso_text

    for tz in ("UTC", "Europe/Berlin", "America/New_York"):
        for name, values in COLUMNS.items():
            column = pd.Series(values, dtype=object)
            at_once = _iso_text(column, tz)
            slow = _element_wise(column, tz).astype("datetime64[ns, UTC]")
            if at_once is None:  # left to the element-wise rules
                assert name in ("not all iso", "offsets", "zoned and naive"), (name, tz)
                continue
            assert name in ("naive", "zulu", "nanoseconds"), (name, tz)
            pd.testing.assert_series_equal(at_once.astype("datetime64[ns, UTC]"), slow,
                                           check_names=False, obj=f"{name} in {tz}")  # fmt: skip
    numbers_as_text = pd.Series(["2024-01-01", 5], dtype=object)
    assert _iso_text(numbers_as_text, "UTC") is None


def test_a_columns_day_order_holds_for_a_batch_of_early_days():
    """Training saw 13/01/2024, so the column reads day first; a later batch of only early-month
    dates must read so too (judged from its own values it would read 05/01/2024 as 1 May)."""
    from mlrig.components.contract.acceptance import validate_table
    from mlrig.components.contract.contract import Contract
    from mlrig.components.score.core import request_columns

    early = pd.Series(["05/01/2024", "11/02/2024 10:00"])
    assert to_utc(early, "UTC").dt.month.tolist() == [5, 11]  # judged alone: month first
    assert to_utc(early, "UTC", dayfirst=True).dt.month.tolist() == [1, 2]
    assert to_utc(pd.Series(["13/01/2024"]), "UTC", dayfirst=False).isna().all()
    contract = Contract(task="binary", target="y", entity_keys={}, derivations=[],
                        request_fields={"when": {"type": "datetime", "required": True,
                                                 "day_first": True}},
                        date_parts=None, event_time=None, timezone="UTC", features=None)  # fmt: skip
    columns = request_columns(contract)
    assert columns["when"].day_first is True
    accepted, rejected, _ = validate_table("batch", pd.DataFrame({"when": early}), columns)
    assert rejected.empty and accepted["when"].dt.month.tolist() == [1, 2]


def test_a_column_of_years_reads_each_as_its_first_moment_in_the_zone_and_back():
    given = pd.Series([2015, "2016", 2017.0, 2017.5, None, "2018-06-01T00:00:00"], dtype=object)
    times = to_utc(given, "Asia/Tokyo", "year")
    assert times.tolist()[:3] == [
        pd.Timestamp(f"{y}-01-01", tz="Asia/Tokyo").tz_convert("UTC") for y in (2015, 2016, 2017)
    ]
    assert times.isna().tolist()[3:5] == [True, True]  # half a year, no value: no time
    assert times[5] == pd.Timestamp("2018-06-01", tz="Asia/Tokyo")  # ISO text as before
    assert unix_times(times, "year", "Asia/Tokyo").tolist()[:3] == [2015, 2016, 2017]
