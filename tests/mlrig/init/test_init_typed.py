"""`mlrig init` on a file that types its columns (parquet, JSON): whole numbers stored as text
are codes and stay text; a CSV's are numbers; a target stored so is still read as numbers."""

from __future__ import annotations

import pandas as pd

from mlrig.components.config.loader import load
from tests.mlrig.init.helpers import init_file, init_table


def _frame(n: int = 80) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "store": [str(1 + i % 9) for i in range(n)],  # a code, stored as text
            "price": [f"{2.5 + i % 7:.2f}" for i in range(n)],  # decimals as text: amounts
            "units": [i % 13 for i in range(n)],  # a real integer column
            "rating": [str(i % 3) for i in range(n)],  # the target, as text
        }
    )


def test_a_typed_files_whole_numbers_as_text_stay_codes(tmp_path):
    frame = _frame()
    frame.to_parquet(tmp_path / "sales.parquet", index=False)
    said, out = init_file(tmp_path / "sales.parquet", "--target", "rating")
    columns = load(out).config.dataset.tables["main"].columns
    assert columns["store"].type == "str"
    assert (columns["price"].type, columns["units"].type) == ("float", "int")
    assert columns["rating"].type == "int"  # the target: numbers, its task says how
    assert "'store' holds whole numbers that the file stores as text: kept as text, a code " \
           "(9 distinct); set its type to int if they are amounts or counts" in said  # fmt: skip
    assert "'rating' holds whole numbers" not in said

    records = tmp_path / "sales.json"
    frame.to_json(records, orient="records")
    said, out = init_file(records, "--target", "rating", "--force")
    assert load(out).config.dataset.tables["main"].columns["store"].type == "str"


def test_a_csvs_whole_numbers_are_numbers(tmp_path):
    said, out = init_table(_frame(), tmp_path, "sales.csv", "--target", "rating")
    assert load(out).config.dataset.tables["main"].columns["store"].type == "int"
    assert "holds whole numbers that the file stores as text" not in said


def test_a_partitioned_parquet_folder_is_one_table(tmp_path):
    frame = _frame().assign(month=[1 + i % 3 for i in range(80)])
    frame.to_parquet(tmp_path / "sales", partition_cols=["month"], index=False)
    said, out = init_file(tmp_path / "sales", "--target", "rating")
    cfg = load(out).config
    assert cfg.dataset.tables["main"].source.path == "sales" and "80 rows" in said
    assert cfg.dataset.tables["main"].columns["month"].type == "int"
