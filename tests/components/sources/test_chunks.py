"""A file read a chunk at a time gives the rows read_source gives reading it whole, in order,
for every format and for a folder of parts, never more than the chunk's rows at once."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mlrig.components.config.schema import FileSource
from mlrig.components.sources.chunks import file_rows, read_chunks
from mlrig.components.sources.errors import SourceError
from mlrig.components.sources.readers import read_source

ROWS = pd.DataFrame(
    {"zip": ["01003", "02139", None, "10001", "94103"], "n": [1, 2, 3, 4, 5],
     "amount": [1.5, 2.5, None, 4.0, 5.25]}
)  # fmt: skip


def _both(path, tmp_path, rows=2, **source):
    src = FileSource(kind="file", path=str(path), **source)
    chunks = list(read_chunks("batch", src, tmp_path, ["zip"], rows))
    whole = read_source("batch", src, tmp_path, ["zip"])
    return chunks, whole


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl", ".json"])
def test_each_format_reads_in_chunks_as_it_reads_whole(suffix, tmp_path):
    path = tmp_path / f"batch{suffix}"
    if suffix == ".csv":
        ROWS.to_csv(path, index=False, sep=";")  # the separator is sniffed for each read
    elif suffix == ".parquet":
        ROWS.to_parquet(path, index=False, row_group_size=1)  # small groups joined up to 2
    else:
        ROWS.to_json(path, orient="records", lines=suffix == ".jsonl")
    chunks, whole = _both(path, tmp_path)
    assert [len(c) for c in chunks] == [2, 2, 1]
    joined = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole, check_dtype=suffix != ".json")
    if suffix in (".csv", ".parquet"):
        assert joined.zip.tolist()[:2] == ["01003", "02139"]  # codes keep their zeros


def test_a_hive_partitioned_parquet_folder_keeps_its_partition_column(tmp_path):
    folder = tmp_path / "parts"
    for year in (2023, 2024):
        (folder / f"year={year}").mkdir(parents=True)
        ROWS.assign(n=ROWS.n + year).to_parquet(folder / f"year={year}" / "p.parquet")
    (folder / "_SUCCESS").write_text("")
    chunks = list(read_chunks("batch", FileSource(kind="file", path=str(folder)), tmp_path, [], 4))
    joined = pd.concat(chunks, ignore_index=True)
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert joined.year.tolist() == [2023] * 5 + [2024] * 5
    assert file_rows(FileSource(kind="file", path=str(folder)), tmp_path) == 10


def test_a_file_without_rows_gives_one_empty_chunk_with_its_columns(tmp_path):
    (tmp_path / "empty.csv").write_text("zip,n\n")
    chunks, _ = _both(tmp_path / "empty.csv", tmp_path)
    assert len(chunks) == 1 and chunks[0].empty and list(chunks[0].columns) == ["zip", "n"]


def test_text_formats_have_no_row_count_and_parquet_has_its_own(tmp_path):
    ROWS.to_csv(tmp_path / "b.csv", index=False)
    ROWS.to_parquet(tmp_path / "b.parquet")
    assert file_rows(FileSource(kind="file", path="b.csv"), tmp_path) is None
    assert file_rows(FileSource(kind="file", path="b.parquet"), tmp_path) == 5


def test_a_broken_file_is_an_error_naming_the_table(tmp_path):
    (tmp_path / "bad.jsonl").write_text(json.dumps({"a": 1}) + "\n{not json\n")
    with pytest.raises(SourceError, match="table 'batch'"):
        _both(tmp_path / "bad.jsonl", tmp_path)
    with pytest.raises(SourceError, match="table 'batch': file not found"):
        list(read_chunks("batch", FileSource(kind="file", path="nope.csv"), tmp_path, [], 2))
