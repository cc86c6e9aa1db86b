"""`mlrig init` on whole numbers that are Unix times: read as times where the column is the
event time or its name says time, and every value is a time of 1980-2100 in one unit."""

from __future__ import annotations

import pandas as pd
import yaml
from typer.testing import CliRunner

from mlrig.cli import app
from mlrig.components.config.loader import load
from tests.mlrig.init.helpers import init_table


def test_unix_times_are_read_as_times_where_the_name_or_timestamp_says_time(tmp_path):
    n = 60
    start = 1_672_531_200  # 2023-01-01 UTC
    frame = pd.DataFrame(
        {
            "card": [i % 6 for i in range(n)],
            "unix_time": [start + 3_600 * 7 * i for i in range(n)],  # seconds, the event time
            "created_at_ms": [(start - 86_400 * i) * 1000 for i in range(n)],  # named, in ms
            "balance": [start + i for i in range(n)],  # in range, but the name says no time
            "ts": [5 * i for i in range(n)],  # named, but not Unix times
            "fraud": ["yes" if i % 4 == 0 else "no" for i in range(n)],
        }
    )
    said, out = init_table(frame, tmp_path, "tx.csv", "--target", "fraud", "--entity", "card",
                           "--timestamp", "unix_time")  # fmt: skip
    cfg = load(out).config
    columns = cfg.dataset.tables["main"].columns
    assert (columns["unix_time"].type, columns["unix_time"].epoch) == ("datetime", "s")
    assert (columns["created_at_ms"].type, columns["created_at_ms"].epoch) == ("datetime", "ms")
    assert columns["balance"].type == "int" and columns["ts"].type == "int"
    assert "'unix_time' holds Unix times in seconds (2023-01-01 to 2023-01-18 UTC)" in said
    assert cfg.dataset.date_parts.column == "unix_time" and "hour" in cfg.dataset.date_parts.parts
    bad = frame.assign(unix_time=range(n))  # small numbers are no times
    bad.to_csv(tmp_path / "bad.csv", index=False)
    result = CliRunner().invoke(app, ["init", str(tmp_path / "bad.csv"), "--target", "fraud",
                                      "--timestamp", "unix_time", "--out", str(out), "--force"])  # fmt: skip
    assert result.exit_code != 0
    assert "--timestamp: column 'unix_time' does not hold times" in result.output
    assert "Unix times within 1980-2100" in " ".join(result.output.split())


def test_times_in_a_named_zone_are_named_not_called_free_text(tmp_path):
    times = pd.date_range("2024-01-01", periods=60, freq="5h")
    frame = pd.DataFrame({"logged": [f"{t:%Y-%m-%d %H:%M:%S} EST" for t in times],
                          "x": [i % 7 for i in range(60)], "y": ["a", "b"] * 30})  # fmt: skip
    said, out = init_table(frame, tmp_path, "log.csv", "--target", "y")
    assert "'logged' is left out of the config: times in a named zone (EST), which means " \
           "different offsets in different places" in said  # fmt: skip
    assert (
        "free text" not in said and "logged" not in load(out).config.dataset.tables["main"].columns
    )


def test_the_day_order_of_slashed_dates_is_written_into_the_config(tmp_path):
    """A column's day order goes into the config, so a batch of early-month dates reads as
    training did; dates that cannot tell (no number over 12) read month first, and init says so."""
    days = pd.date_range("2024-01-01", periods=60, freq="6D")
    frame = pd.DataFrame({"day_first": days.strftime("%d/%m/%Y"),
                          "month_first": days.strftime("%m/%d/%Y"),
                          "iso": days.strftime("%Y-%m-%d"),
                          "x": [i % 7 for i in range(60)], "y": ["a", "b"] * 30})  # fmt: skip
    early = pd.DataFrame({"when": [f"{1 + i % 12:02d}/{1 + i % 11:02d}/2024" for i in range(60)],
                          "x": [i % 7 for i in range(60)], "y": ["a", "b"] * 30})  # fmt: skip
    said, out = init_table(frame, tmp_path, "dates.csv", "--target", "y")
    columns = load(out).config.dataset.tables["main"].columns
    assert (columns["day_first"].day_first, columns["month_first"].day_first) == (True, False)
    assert columns["iso"].day_first is None and "cannot be told" not in said
    (tmp_path / "early").mkdir()
    said, out = init_table(early, tmp_path / "early", "early.csv", "--target", "y")
    assert load(out).config.dataset.tables["main"].columns["when"].day_first is False
    assert "'when' writes dates as 05/01/2024 and no value has a number over 12" in said


def test_year_months_are_times_and_a_request_may_give_one(tmp_path):
    from mlrig.serving.schemas import _iso_time

    months = [f"{y}-{m:02d}" for y in (2016, 2017, 2018) for m in range(1, 13)]
    frame = pd.DataFrame({"month": months * 3, "store": [1] * 36 + [2] * 36 + [3] * 36,
                          "sales": range(108)})  # fmt: skip
    said, out = init_table(frame, tmp_path, "monthly.csv", "--target", "sales",
                           "--timestamp", "month")  # fmt: skip
    columns = yaml.safe_load(out.read_text())["dataset"]["tables"]["main"]["columns"]
    assert columns["month"]["type"] == "datetime" and "epoch" not in columns["month"]
    assert _iso_time("2019-01").isoformat() == "2019-01-01T00:00:00"  # the month's first moment


def test_a_timestamp_of_whole_years_is_read_as_years_and_a_year_built_stays_a_number(tmp_path):
    frame = pd.DataFrame({"year": [2015, 2016, 2017] * 20, "built": [1950, 1990, 2005] * 20,
                          "price": range(60)})  # fmt: skip
    said, out = init_table(frame, tmp_path, "yearly.csv", "--target", "price",
                           "--timestamp", "year")  # fmt: skip
    columns = yaml.safe_load(out.read_text())["dataset"]["tables"]["main"]["columns"]
    assert columns["year"]["epoch"] == "year" and columns["built"]["type"] == "int"
    assert "'year' holds years (2015 to 2017)" in said


def test_a_calendar_part_finer_than_the_times_is_left_out(tmp_path):
    """Whole years give the year alone (a 1 January's weekday is noise, its month a constant),
    whole months the year and the month; days keep the day's parts."""
    for name in "ymod":
        (tmp_path / name).mkdir()
    years = pd.DataFrame({"year": [2015, 2016, 2017] * 20, "x": range(60), "y": range(60)})
    _, out = init_table(years, tmp_path / "y", "yearly.csv", "--target", "y", "--timestamp", "year")
    assert load(out).config.dataset.date_parts.parts == ["year"]
    months = pd.DataFrame({"month": [f"2017-{m:02d}" for m in range(1, 13)] * 5, "x": range(60),
                           "y": range(60)})  # fmt: skip
    _, out = init_table(months, tmp_path / "m", "monthly.csv", "--target", "y",
                        "--timestamp", "month")  # fmt: skip
    assert load(out).config.dataset.date_parts.parts == ["month"]  # one year: no trend to read
    one_year = years.assign(year=2016)
    _, out = init_table(one_year, tmp_path / "o", "one.csv", "--target", "y", "--timestamp", "year")
    assert load(out).config.dataset.date_parts is None
    days = months.assign(month=pd.date_range("2016-01-03", periods=60, freq="9D").astype(str))
    _, out = init_table(days, tmp_path / "d", "daily.csv", "--target", "y", "--timestamp", "month")
    assert load(out).config.dataset.date_parts.parts == ["year", "month", "dayofweek", "dayofyear"]


def test_years_written_as_floats_and_older_than_1800_are_years_too(tmp_path):
    """As statsmodels' sunspots writes them: 1700.0 to 1979.0."""
    frame = pd.DataFrame({"YEAR": [1700.0 + i for i in range(60)], "spots": range(60)})
    said, out = init_table(frame, tmp_path, "sun.csv", "--target", "spots", "--timestamp", "YEAR")
    columns = yaml.safe_load(out.read_text())["dataset"]["tables"]["main"]["columns"]
    assert columns["YEAR"]["epoch"] == "year"
    assert "'YEAR' holds years (1700 to 1759)" in said


def test_a_timestamp_of_numbers_that_are_no_years_is_refused_with_the_rules(tmp_path):
    frame = pd.DataFrame({"step": [1700.5 + i for i in range(60)], "y": range(60)})
    frame.to_csv(tmp_path / "steps.csv", index=False)
    result = CliRunner().invoke(app, ["init", str(tmp_path / "steps.csv"), "--target", "y",
                                      "--timestamp", "step", "--out", str(tmp_path / "m.yaml")])  # fmt: skip
    said = " ".join(result.output.split())
    assert result.exit_code != 0
    assert "--timestamp: column 'step' does not hold times" in said
    assert "whole years within 1678-2261" in said


def test_dates_written_with_a_months_name_are_times_and_words_after_a_month_are_not(tmp_path):
    """As vega_datasets' stocks writes them (Jan 1 2000), and the other common spellings; the
    batch's parsing reads each as the date it names."""
    from mlrig.components.contract.timeutil import to_utc

    spelled = ["Jan 1 2000", "February 1, 2000", "1 Mar 2000", "01-Apr-2000", "Sept. 1 2000"]
    frame = pd.DataFrame({"date": spelled * 12, "symbol": ["A", "B", "C"] * 20,
                          "words": ["March on", "May day", "Junebug", "Octopus", "Decoy"] * 12,
                          "price": range(60)})  # fmt: skip
    said, out = init_table(frame, tmp_path, "stocks.csv", "--target", "price",
                           "--timestamp", "date")  # fmt: skip
    columns = yaml.safe_load(out.read_text())["dataset"]["tables"]["main"]["columns"]
    assert columns["date"]["type"] == "datetime" and columns["words"]["type"] == "str"
    read = to_utc(pd.Series(spelled), "UTC").dt.strftime("%Y-%m-%d").tolist()
    assert read == ["2000-01-01", "2000-02-01", "2000-03-01", "2000-04-01", "2000-09-01"]
