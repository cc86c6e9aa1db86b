"""A file source read a chunk of rows at a time, for work whose memory must not grow with the
file (batch scoring): parquet by record batches, CSV and JSON lines by pandas' chunked readers,
a folder part after part. A JSON array file is one document: it is read whole, then cut.

Each chunk is read exactly as read_source reads the whole file (text columns, separator,
decimal mark, encoding, nested values as JSON text), so scoring a file in chunks gives the rows
scoring it whole would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from mlrig.components.config.schema import FileSource
from mlrig.components.sources.errors import SourceError
from mlrig.components.sources.readers import (
    SPREADSHEETS,
    csv_options,
    data_files,
    file_format,
    nested_as_json,
    resolve_file,
)
from mlrig.components.sources.text import Text


def file_rows(src: FileSource, root: Path) -> int | None:
    """The rows a parquet file or folder holds (from its metadata), None for text formats."""
    import pyarrow.parquet as pq

    path = resolve_file(src.path, root)
    files = data_files(path) if path.is_dir() else [path]
    if any(file_format(src, f) != "parquet" for f in files):
        return None
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def read_chunks(
    name: str, src: FileSource, root: Path, text: Text, rows: int
) -> Iterator[pd.DataFrame]:
    """The file's rows, at most `rows` a chunk; a file without rows yields one empty chunk
    (its columns). Failures become a SourceError naming the table, as read_source's do."""
    if rows < 1:
        raise ValueError(f"rows: a chunk holds at least one row, not {rows}")
    path = resolve_file(src.path, root)
    if not path.exists():
        raise SourceError(f"table '{name}': file not found: {path}")
    if path.suffix.lower() in SPREADSHEETS:
        raise SourceError(f"table '{name}': spreadsheets are not read; save the sheet as CSV")
    given = False
    try:
        for chunk in _file_chunks(src, path, text, rows):
            if len(chunk) or not given:
                given = True
                yield nested_as_json(chunk)
    except SourceError as exc:
        raise SourceError(f"table '{name}': {exc}") from None
    except Exception as exc:  # parser errors surface as read_source's do
        raise SourceError(f"table '{name}' (file): {type(exc).__name__}: {exc}") from exc


def _file_chunks(src: FileSource, path: Path, text: Text, rows: int) -> Iterator[pd.DataFrame]:
    if not path.is_dir():
        yield from _chunks(src, path, text, rows)
        return
    files = data_files(path)
    if file_format(src, files[0]) == "parquet":  # one dataset, hive partition columns included
        import pyarrow.dataset as ds

        dataset = ds.dataset(path, format="parquet", partitioning="hive")
        yield from _batched(dataset.to_batches(batch_size=rows), dataset.schema, rows)
        return
    for part in files:
        yield from _chunks(src, part, text, rows)


def _chunks(src: FileSource, path: Path, text: Text, rows: int) -> Iterator[pd.DataFrame]:
    fmt = file_format(src, path)
    if fmt == "parquet":
        yield from _parquet_chunks(path, rows)
    elif fmt == "jsonl":
        options = {"orient": "records", "convert_dates": False, "dtype": False}
        with pd.read_json(path, lines=True, chunksize=rows, **options) as reader:
            yield from reader
    elif fmt == "json":  # one document: read whole, handed on in chunks
        whole = pd.read_json(path, orient="records", convert_dates=False, dtype=False)
        yield from (whole.iloc[i : i + rows] for i in range(0, max(len(whole), 1), rows))
    else:
        with pd.read_csv(path, chunksize=rows, **csv_options(src, path, text)) as reader:
            yield from reader


def _parquet_chunks(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    yield from _batched(parquet.iter_batches(batch_size=rows), parquet.schema_arrow, rows)


def _batched(batches: Iterator, schema: object, rows: int) -> Iterator[pd.DataFrame]:
    """Record batches joined up to `rows` a chunk (row groups and files can be small); one empty
    chunk of the schema's columns when there are none."""
    import pyarrow as pa

    held, count, empty = [], 0, True
    for batch in batches:
        held.append(batch)
        count += batch.num_rows
        if count >= rows:
            table = pa.Table.from_batches(held, schema=schema)
            yield table.slice(0, rows).to_pandas()
            rest = table.slice(rows)
            held, count, empty = rest.to_batches(), rest.num_rows, False
    if count or empty:
        yield pa.Table.from_batches(held, schema=schema).to_pandas()
