"""`mlrig init`: a config drafted from a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml

from mlrig.cli.common import console

SOURCE = typer.Argument(
    ...,
    metavar="SOURCE",
    help="a CSV, parquet or JSON file; an http(s) URL answering JSON or CSV records; or a "
    "database URL (sqlite:///shop.db, 'postgresql://user:${PGPASSWORD}@host/db') with "
    "--table or --query",
)
RECORDS_PATH = typer.Option(
    None, help="HTTP JSON source: dotted path to the list of records in the answer"
)
HEADER = typer.Option(
    [], help="HTTP source: 'Name: value' request header, credentials as ${VAR} (repeatable)"
)
NEXT_PATH = typer.Option(
    None, help="paged HTTP JSON source: dotted path to the next page's URL in each answer"
)
MAX_ROWS = typer.Option(
    1_000_000,
    min=100,
    help="rows read to infer the config, from the start of a file or query (`mlrig run` reads "
    "them all)",
)


def init(
    data: str = SOURCE,
    target: str = typer.Option(..., help="the column to predict"),
    entity: list[str] = typer.Option([], help="an entity key column (repeatable)"),
    timestamp: str | None = typer.Option(None, help="the event-time column, if there is one"),
    table: str | None = typer.Option(None, help="database source: the table to read"),
    query: str | None = typer.Option(None, help="database source: the SELECT to read"),
    records_path: str | None = RECORDS_PATH,
    header: list[str] = HEADER,
    next_path: str | None = NEXT_PATH,
    max_rows: int = MAX_ROWS,
    out: Path = typer.Option(Path("mlrig.yaml"), help="where to write the config"),
    force: bool = typer.Option(False, help="overwrite an existing config"),
) -> None:
    """Write a working mlrig.yaml for a new table: types, categoricals and task inferred."""
    from mlrig.components.config.loader import ConfigError
    from mlrig.init.draft import InitError
    from mlrig.init.source import InitSourceError, SourceError, read

    if out.exists() and not force:
        console.print(f"[red]{out} exists[/] (pass --force to overwrite)")
        raise typer.Exit(2)
    folder = out.resolve().parent
    try:
        with console.status(f"reading {data} …") as status:  # a million rows take seconds
            got = read(data, folder, table, query, records_path, header, next_path, max_rows)
            status.update(f"{len(got.frame):,} rows read; inferring column types and the task …")
            data_cfg, said = _draft(got, folder, target, entity, timestamp)
    except (SourceError, InitError, InitSourceError, ConfigError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    comment = f"# mlrig config for {got.name}, written by `mlrig init`; edit freely.\n"
    out.write_text(comment + yaml.safe_dump(data_cfg, sort_keys=False))
    ds, rows = data_cfg["dataset"], len(got.frame)
    columns = len(ds["tables"]["main"]["columns"])
    console.print(
        f"wrote {out}: {rows} rows, {columns} columns, task {ds['task']}. Next: [bold]mlrig run[/]"
    )
    if got.truncated:
        said.insert(
            0,
            f"the config is inferred from the first {rows:,} rows (--max-rows); "
            "`mlrig run` reads the whole table",
        )
    for note in said:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


def _draft(
    got: Any, folder: Path, target: str, entity: list[str], timestamp: str | None
) -> tuple[dict[str, Any], list[str]]:
    """The config drafted from what was read (checked to load) and the notes on it."""
    from mlrig.components.config.loader import build
    from mlrig.init.draft import build_config
    from mlrig.init.notes import notes

    is_file = got.source["kind"] == "file"
    data_cfg, left_out, numbers = build_config(
        got.frame,
        got.source["path"] if is_file else got.name,
        target,
        entity,
        timestamp,
        sep=got.sep,
        encoding=got.encoding,
        typed=got.typed,
        location=None if is_file else got.source,
    )
    build(data_cfg, folder)  # the written config must load
    return data_cfg, notes(got.frame, data_cfg, left_out, numbers)
