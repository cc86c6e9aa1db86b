"""Where `mlrig init` reads a new table from: a file, an HTTP API answering JSON or CSV records,
or a SQL database (any SQLAlchemy URL) by table name or query. The written config's source is
the same one, so `mlrig run` reads what `init` read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlrig.components.config import env
from mlrig.components.config.schema import FileSource, HttpSource, SqlSource
from mlrig.components.sources.readers import (
    SUFFIXES,
    SourceError,
    data_files,
    read_source,
    sniff_encoding,
    sniff_sep,
)

# a SQLAlchemy URL: dialect[+driver]:// (http(s) and package:// are not databases)
_DATABASE_URL = re.compile(r"^(?!https?://|package://)[a-z][a-z0-9]*(\+[a-z0-9_]+)?://", re.I)
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class InitSourceError(ValueError):
    """The source cannot be read as asked; the message names the option."""


@dataclass
class InitSource:
    """A table read for `mlrig init`, with what its config entry needs."""

    frame: pd.DataFrame
    source: dict[str, Any]  # the config's dataset.tables.main.source
    name: str  # for the project name and the config's header
    typed: bool  # the source types its columns (parquet, JSON, a database)
    sep: str | None = None
    encoding: str = "utf-8"
    truncated: bool = False  # the table has more rows than init read (max_rows)


def read(
    spec: str,
    folder: Path,
    table: str | None = None,
    query: str | None = None,
    records_path: str | None = None,
    headers: list[str] | None = None,
    next_path: str | None = None,
    max_rows: int | None = None,
) -> InitSource:
    """Read the table `spec` names: an http(s) URL, a database URL (with table or query), or a
    file. Database and HTTP URLs may hold ${VAR} references; a literal password is refused, as
    it would be written into mlrig.yaml."""
    if (table or query) and not _DATABASE_URL.match(spec):
        raise InitSourceError(
            "--table/--query: the source is not a database URL (e.g. sqlite:///shop.db or "
            "'postgresql://user:${PGPASSWORD}@host/db')"
        )
    web = spec.lower().startswith(("http://", "https://"))
    if (records_path or headers or next_path) and not web:
        raise InitSourceError("--records-path/--header/--next-path: only for an http(s) source")
    if "://" in spec and env.mask(spec) != spec:
        raise InitSourceError(
            f"{env.mask(spec)}: the URL holds a password, which would be written into "
            "mlrig.yaml; write it as a reference, e.g. 'postgresql://user:${PGPASSWORD}@host/db' "
            "(in single quotes), and set that variable"
        )
    if web:
        got = _http(spec, folder, records_path, _headers(headers or []), next_path, max_rows)
    elif _DATABASE_URL.match(spec):
        got = _sql(spec, folder, table, query, max_rows)
    else:
        got = _file(Path(spec), folder, max_rows)
    if max_rows and len(got.frame) > max_rows:  # one row more than asked says there are more
        got.frame, got.truncated = got.frame.head(max_rows).copy(), True
    return got


_CREDENTIAL = re.compile(r"auth|token|key|secret|cookie|password", re.IGNORECASE)


def _headers(given: list[str]) -> dict[str, str]:
    """'Name: value' pairs; a credential's value must be a ${VAR} reference (it is written into
    mlrig.yaml and resolved when the source is read)."""
    out = {}
    for item in given:
        name, sep, value = item.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise InitSourceError(f"--header: '{item}' is not 'Name: value'")
        if _CREDENTIAL.search(name) and "${" not in value:
            raise InitSourceError(
                f"--header: {name} holds a credential, which would be written into mlrig.yaml; "
                f"write it as a reference, e.g. '{name}: Bearer ${{API_TOKEN}}' (in single "
                "quotes), and set that variable"
            )
        out[name] = value
    return out


def _http(
    url: str,
    folder: Path,
    records_path: str | None,
    headers: dict[str, str],
    next_path: str | None,
    max_rows: int | None,
) -> InitSource:
    path = url.split("?")[0].rstrip("/")
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    fmt = "csv" if suffix == ".csv" else "jsonl" if suffix in (".jsonl", ".ndjson") else "json"
    src = HttpSource(
        kind="http",
        url=url,
        format=fmt,
        records_path=records_path,
        headers=headers,
        next_path=next_path,
    )
    limit = max_rows + 1 if max_rows else None
    frame = read_source("main", src, folder, "all", limit)  # a CSV's columns as text, as a file's
    source = src.model_dump(exclude_defaults=True)
    source["kind"] = "http"
    return InitSource(frame, source, path.rsplit("/", 1)[-1] or "api", typed=fmt != "csv")


def _sql(
    url: str, folder: Path, table: str | None, query: str | None, max_rows: int | None
) -> InitSource:
    if bool(table) == bool(query):
        raise InitSourceError("a database source needs --table NAME or --query 'SELECT …' (one)")
    if table and not _PLAIN_NAME.match(table):
        raise InitSourceError(f"--table: '{table}' is not a plain table name (use --query)")
    sql = query or f"SELECT * FROM {table}"
    src = SqlSource(kind="sql", url=url, query=sql)
    frame = read_source("main", src, folder, limit=max_rows + 1 if max_rows else None)
    return InitSource(frame, src.model_dump(), table or "query", typed=True)


def _file(given: Path, folder: Path, max_rows: int | None) -> InitSource:
    file = given.resolve()
    path = str(file.relative_to(folder)) if file.is_relative_to(folder) else str(file)
    sample = data_files(file)[0] if file.is_dir() else file  # a folder: its first file
    csv = sample.is_file() and sample.suffix.lower() not in SUFFIXES
    encoding = sniff_encoding(sample) if csv else "utf-8"
    src = FileSource(kind="file", path=path, encoding=encoding)
    limit = max_rows + 1 if max_rows else None
    frame = read_source("main", src, folder, "all", limit)  # a CSV's columns as text
    source: dict[str, Any] = {"kind": "file", "path": path}
    if encoding != "utf-8":
        source["encoding"] = encoding
    return InitSource(
        frame,
        source,
        given.name,
        typed=not csv,
        sep=sniff_sep(sample) if csv else None,
        encoding=encoding,
    )


__all__ = ["InitSource", "InitSourceError", "SourceError", "read"]
