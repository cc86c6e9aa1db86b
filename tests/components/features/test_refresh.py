"""The live refresh's cut in a database's query: rows well before the watermark are left in the
database, whatever the time column is called."""

from __future__ import annotations

import pandas as pd
import pytest

from mlrig.components.config.schema import Table
from mlrig.components.features.refresh import _past_watermark
from mlrig.components.sources.readers import read_source
from tests.sqlite_tables import write_table


@pytest.mark.parametrize("column", ["ts", "event time", "Order", "select"])
def test_a_sql_source_is_cut_a_day_before_the_watermark_in_its_query(tmp_path, column):
    days = pd.date_range("2024-01-01", periods=10, freq="D").strftime("%Y-%m-%d %H:%M:%S")
    write_table(tmp_path / "events.db", "events", pd.DataFrame({column: days, "v": range(10)}))
    table = Table.model_validate({
        "source": {"kind": "sql", "url": "sqlite:///events.db", "query": "SELECT * FROM events;"},
        "columns": {column: {"type": "datetime"}, "v": {"type": "int"}},
    })  # fmt: skip
    cut = _past_watermark(table, column, "2024-01-08T12:00:00+00:00")
    rows = read_source("events", cut, tmp_path)
    assert rows["v"].tolist() == [7, 8, 9]  # after 2024-01-07 12:00: a day early, cut exactly later
    assert read_source("events", table.source, tmp_path)["v"].tolist() == list(range(10))
