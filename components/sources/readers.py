"""Readers for the places a table can live: files (local or inside a package), SQL, HTTP."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import numpy as np
import pandas as pd

from mlrig.components.config import env
from mlrig.components.config.schema import FileSource, SourceLocation, SqlSource, Table
from mlrig.components.sources.errors import SourceError
from mlrig.components.sources.http_source import read_http
from mlrig.components.sources.text import Text, csv_dtype

PACKAGE_SCHEME = "package://"
SUFFIXES = {".parquet": "parquet", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
SPREADSHEETS = {".xlsx", ".xls", ".xlsm", ".ods"}
COMPRESSED = {".gz", ".bz2", ".zip", ".xz", ".zst"}  # pandas decompresses these CSVs itself


def resolve_file(path: str, root: Path) -> Path:
    """Resolve package://pkg/inner/path (a package's data folder) or a path relative to root."""
    if path.startswith(PACKAGE_SCHEME):
        package, _, inner = path[len(PACKAGE_SCHEME) :].partition("/")
        try:
            base = importlib.resources.files(package)
        except ModuleNotFoundError:
            raise SourceError(f"package '{package}' is not installed (from {path})") from None
        return Path(str(base.joinpath(inner)))
    p = Path(path).expanduser()
    return p if p.is_absolute() else root / p


def local_files(tables: dict[str, Table], root: Path) -> dict[str, Path] | None:
    """Each table's source file or folder, or None when a table is not read from a file (SQL,
    HTTP: its rows can change without any byte here) or its package is not installed."""
    found = {}
    for name, table in tables.items():
        if not isinstance(table.source, FileSource):
            return None
        try:
            found[name] = resolve_file(table.source.path, root)
        except SourceError:
            return None
    return found


def _read_file(src: FileSource, root: Path, text: Text, limit: int | None = None) -> pd.DataFrame:
    path = resolve_file(src.path, root)
    if not path.exists():
        raise SourceError(f"file not found: {path}")
    if path.is_dir():
        return _read_folder(src, path, text)
    if path.suffix.lower() in SPREADSHEETS:
        raise SourceError(f"{path.name}: spreadsheets are not read; save the sheet as CSV")
    fmt = file_format(src, path)
    if fmt == "parquet":
        return _parquet_head(path, limit) if limit else pd.read_parquet(path)
    if fmt in ("json", "jsonl"):  # a list of records, or one record per line
        lines = fmt == "jsonl"
        return pd.read_json(
            path,
            orient="records",
            lines=lines,
            convert_dates=False,
            dtype=False,
            nrows=limit if lines else None,
        )
    return pd.read_csv(path, **csv_options(src, path, text), nrows=limit)


def file_format(src: FileSource, path: Path) -> str:
    """parquet, json, jsonl or csv: the source's format, or the file's suffix for auto."""
    return SUFFIXES.get(path.suffix.lower(), "csv") if src.format == "auto" else src.format


def csv_options(src: FileSource, path: Path, text: Text) -> dict:
    """How a CSV of this source is read: columns declared str as text (codes such as zip
    "02139" keep their zeros), the separator sniffed unless given, the source's decimal mark
    and encoding."""
    return {
        "low_memory": False,
        "dtype": csv_dtype(text),
        "sep": src.sep or sniff_sep(path),
        "decimal": src.decimal,
        "thousands": "." if src.decimal == "," else None,
        "encoding": src.encoding,
    }


def _parquet_head(path: Path, limit: int) -> pd.DataFrame:
    """The first `limit` rows of a parquet file, read batch by batch (not the whole file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    batches, rows = [], 0
    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=min(limit, 65_536)):
        batches.append(batch)
        rows += batch.num_rows
        if rows >= limit:
            break
    table = pa.Table.from_batches(batches, schema=parquet.schema_arrow).slice(0, limit)
    return table.to_pandas()


def data_files(folder: Path) -> list[Path]:
    """The data files of a folder and its subfolders (a partitioned export), in name order;
    hidden and underscore files (_SUCCESS, .crc) are not data."""

    def data(p: Path) -> bool:
        return p.is_file() and not any(
            n.startswith((".", "_")) for n in p.relative_to(folder).parts
        )

    files = sorted(p for p in folder.rglob("*") if data(p))
    if not files:
        raise SourceError(f"{folder}: the folder holds no data files")
    kinds = {SUFFIXES.get(p.suffix.lower(), "csv") for p in files}
    if len(kinds) > 1:
        raise SourceError(
            f"{folder}: files of more than one format ({', '.join(sorted(kinds))}); "
            "keep one format per folder"
        )
    return files


def _read_folder(src: FileSource, folder: Path, text: Text) -> pd.DataFrame:
    """One table from every file of a folder: a parquet dataset through pyarrow (hive partition
    columns such as year=2024 included, as their values), else the files one after another."""
    files = data_files(folder)
    if SUFFIXES.get(files[0].suffix.lower()) == "parquet":
        frame = pd.read_parquet(folder)
        for name in frame.columns:  # partition columns come as categoricals of their values
            if isinstance(frame[name].dtype, pd.CategoricalDtype):
                frame[name] = frame[name].astype(frame[name].cat.categories.dtype)
        return frame
    parts = [_read_file(src.model_copy(update={"path": str(f)}), folder, text) for f in files]
    return pd.concat(parts, ignore_index=True)


def sniff_encoding(path: Path, size: int = 1 << 20) -> str:
    """utf-8 when the file's first MB decodes as UTF-8, else cp1252 (what Windows and Excel
    write in Western Europe and the Americas), else latin-1 (which decodes any byte)."""
    if path.suffix.lower() in COMPRESSED:  # the bytes say nothing before decompression
        return "utf-8"
    with path.open("rb") as fh:
        head = fh.read(size)
    for encoding in ("utf-8", "cp1252"):
        try:
            head.decode(encoding)
            return encoding
        except UnicodeDecodeError as exc:
            if encoding == "utf-8" and len(head) == size and exc.start >= size - 3:
                return encoding  # a character cut by the sample's end
    return "latin-1"


SEPARATORS = ",;\t|"


def sniff_sep(path: Path) -> str:
    """The field separator of a CSV file, from its first 64 KB (a spreadsheet's export in many
    countries uses ';'); ',' when the sample says nothing clearer."""
    import csv

    if path.suffix.lower() in COMPRESSED:
        return ","
    with path.open(encoding="utf-8-sig", errors="replace") as fh:  # separators are ASCII
        sample = fh.read(65536)
    lines = sample.splitlines()[:50]
    if len(lines) > 1 and len(sample) == 65536:
        lines = lines[:-1]  # the last line may be cut
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=SEPARATORS).delimiter
    except csv.Error:
        return ","


def sql_url(url: str, root: Path) -> str:
    """The URL with a relative SQLite file made absolute against the config folder (SQLAlchemy
    would take it relative to whatever folder a stage runs in)."""
    prefix = "sqlite:///"
    rest = url[len(prefix) :]
    if url.startswith(prefix) and rest and not rest.startswith(("/", ":memory:")):
        return prefix + str(root / rest)
    return url


def quoted_column(src: SqlSource, column: str) -> str:
    """A column's name as the source's database takes it in a query: "event time" (`event time`
    on MySQL), "Order", and ts as it is. A database whose dialect is not installed: ANSI quotes."""
    import sqlalchemy

    try:
        dialect = sqlalchemy.engine.make_url(src.url).get_dialect()()
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError):
        return '"' + column.replace('"', '""') + '"'
    return dialect.identifier_preparer.quote(column)


def _read_sql(src: SqlSource, root: Path, limit: int | None = None) -> pd.DataFrame:
    """The query's rows; with a limit, only the first `limit` are fetched (streamed from the
    server where its driver can)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(sql_url(env.resolve(src.url), root))
    try:
        with engine.connect() as conn:
            if not limit:
                return pd.read_sql_query(sqlalchemy.text(src.query), conn)
            streamed = conn.execution_options(stream_results=True)
            chunks = pd.read_sql_query(sqlalchemy.text(src.query), streamed, chunksize=limit)
            first = next(iter(chunks), None)
        if first is not None:
            return first
        with engine.connect() as conn:  # no row at all: the columns, as an unlimited read
            return pd.read_sql_query(sqlalchemy.text(src.query), conn)
    finally:
        engine.dispose()


def _json_text(value: object) -> object:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, default=str, ensure_ascii=False)
    return value


def nested_as_json(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists and records in cells (parquet list/struct columns, nested JSON) as JSON text: one
    value per cell that hashes, validates and is kept as it came."""
    for name in frame.columns:
        if frame[name].dtype != object:
            continue
        column = frame[name]  # a column of records holds them from its start: its first 1,000
        head = column.head(1000).dropna()  # values, found among its first 1,000 rows when
        if len(head) < 1000 < len(column):  # they hold no gap (no copy of the whole column)
            head = column.dropna().head(1000)
        if head.map(lambda v: isinstance(v, list | dict | tuple | np.ndarray)).any():
            frame[name] = frame[name].map(_json_text)
    return frame


def read_source(
    name: str, src: SourceLocation, root: Path, text: Text | None = None, limit: int | None = None
) -> pd.DataFrame:
    """Read one table (a CSV's columns named in text are read as text, all of them for "all");
    any failure becomes a SourceError naming the table. limit: at most that many rows, from the
    start of a file (a folder and a JSON array file are read whole), a query or an API's pages."""
    try:
        if isinstance(src, FileSource):
            return nested_as_json(_read_file(src, root, text or [], limit))
        if isinstance(src, SqlSource):
            return nested_as_json(_read_sql(src, root, limit))
        return nested_as_json(read_http(src, text or [], limit))
    except SourceError as exc:
        raise SourceError(f"table '{name}': {exc}") from None
    except Exception as exc:  # driver, network and parser errors all surface the same way
        raise SourceError(f"table '{name}' ({src.kind}): {type(exc).__name__}: {exc}") from exc
