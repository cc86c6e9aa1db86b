"""Chunks appended to one parquet file read back as the frame they make together; a column
that changes type between chunks is refused, naming it."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from mlrig.components.runtime.appender import ChunkTypeError, ParquetAppender


def test_chunks_read_back_as_one_frame_with_nullable_ints_kept(tmp_path):
    first = pd.DataFrame({"id": pd.array([1000, None], dtype="Int64"), "note": [None, None]})
    second = pd.DataFrame({"id": pd.array([7, 8], dtype="Int64"), "note": ["a", None]})
    with ParquetAppender(tmp_path / "out.parquet") as out:
        out.write(first)
        out.write(second)
    back = pd.read_parquet(tmp_path / "out.parquet")
    assert back.id.tolist()[0] == 1000 and str(back.id.dtype) == "Int64"  # not 1000.0
    assert back.note.tolist()[2] == "a"  # a column empty at first is text, not nulls only
    assert pq.ParquetFile(tmp_path / "out.parquet").num_row_groups == 2


def test_a_column_that_changes_type_between_chunks_is_refused_naming_it(tmp_path):
    with ParquetAppender(tmp_path / "out.parquet") as out:
        out.write(pd.DataFrame({"id": [1, 2]}))
        out.write(pd.DataFrame({"id": [3.0, None]}))  # integral floats: still ids
        with pytest.raises(ChunkTypeError, match="column 'id': read as int64 .* from row 4"):
            out.write(pd.DataFrame({"id": ["A12"]}))
        with pytest.raises(ChunkTypeError, match="columns \\['other'\\]"):
            out.write(pd.DataFrame({"other": [1]}))
