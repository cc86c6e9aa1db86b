"""`mlrig score --out` writes the predictions file as CSV or JSON records a row group at a time,
the same values pandas writes from the whole frame."""

from __future__ import annotations

import json

import pandas as pd

from mlrig.cli.predict import _export
from mlrig.components.runtime.appender import ParquetAppender

FRAME = pd.DataFrame(
    {"id": pd.array([1, 2, 3], dtype="Int64"), "when": pd.to_datetime(["2024-01-01"] * 3, utc=True),
     "prediction": [0.25, 0.5, 0.75]}
)  # fmt: skip


def _written(tmp_path):
    with ParquetAppender(tmp_path / "p.parquet") as out:
        out.write(FRAME.iloc[:2])
        out.write(FRAME.iloc[2:])
    return tmp_path / "p.parquet"


def test_csv_export_has_one_header_and_every_row(tmp_path):
    _export(_written(tmp_path), tmp_path / "out.csv")
    back = pd.read_csv(tmp_path / "out.csv")
    assert back.id.tolist() == [1, 2, 3] and back.prediction.tolist() == [0.25, 0.5, 0.75]


def test_json_export_is_one_array_of_records(tmp_path):
    _export(_written(tmp_path), tmp_path / "out.json")
    records = json.loads((tmp_path / "out.json").read_text())
    assert [r["id"] for r in records] == [1, 2, 3]
    assert records[0]["when"].startswith("2024-01-01T00:00:00")


def test_an_empty_predictions_file_exports_its_header(tmp_path):
    with ParquetAppender(tmp_path / "p.parquet") as out:
        out.write(FRAME.iloc[:0])
    _export(tmp_path / "p.parquet", tmp_path / "out.csv")
    _export(tmp_path / "p.parquet", tmp_path / "out.json")
    assert (tmp_path / "out.csv").read_text().strip() == "id,when,prediction"
    assert json.loads((tmp_path / "out.json").read_text()) == []
