"""`mlrig init`: a config drafted from a table."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml

from mlrig.cli.common import console


def init(
    data: str = typer.Argument(
        ...,
        metavar="SOURCE",
        help="a CSV, parquet or JSON file; an http(s) URL answering JSON or CSV records; or a "
        "database URL (sqlite:///shop.db, 'postgresql://user:${PGPASSWORD}@host/db') with "
        "--table or --query",
    ),
    target: str = typer.Option(..., help="the column to predict"),
    entity: list[str] = typer.Option([], help="an entity key column (repeatable)"),
    timestamp: str | None = typer.Option(None, help="the event-time column, if there is one"),
    table: str | None = typer.Option(None, help="database source: the table to read"),
    query: str | None = typer.Option(None, help="database source: the SELECT to read"),
    records_path: str | None = typer.Option(
        None, help="HTTP JSON source: dotted path to the list of records in the answer"
    ),
    header: list[str] = typer.Option(
        [], help="HTTP source: 'Name: value' request header, credentials as ${VAR} (repeatable)"
    ),
    next_path: str | None = typer.Option(
        None, help="paged HTTP JSON source: dotted path to the next page's URL in each answer"
    ),
    max_rows: int = typer.Option(
        1_000_000,
        min=100,
        help="rows read to infer the config, from the start of a file or "
        "query (`mlrig run` reads them all)",
    ),
    out: Path = typer.Option(Path("mlrig.yaml"), help="where to write the config"),
    force: bool = typer.Option(False, help="overwrite an existing config"),
) -> None:
    """Write a working mlrig.yaml for a new table: types, categoricals and task inferred."""
    from mlrig.components.config.loader import ConfigError, build
    from mlrig.init.draft import InitError, build_config
    from mlrig.init.notes import notes
    from mlrig.init.source import InitSourceError, SourceError, read

    if out.exists() and not force:
        console.print(f"[red]{out} exists[/] (pass --force to overwrite)")
        raise typer.Exit(2)
    folder = out.resolve().parent
    try:
        with console.status(f"reading {data} …") as status:  # a million rows take seconds
            got = read(data, folder, table, query, records_path, header, next_path, max_rows)
            frame = got.frame
            file = got.source["path"] if got.source["kind"] == "file" else got.name
            status.update(f"{len(frame):,} rows read; inferring column types and the task …")
            data_cfg, left_out, numbers = build_config(
                frame, file, target, entity, timestamp, sep=got.sep, encoding=got.encoding,
                typed=got.typed, location=None if got.source["kind"] == "file" else got.source,
            )  # fmt: skip
            build(data_cfg, folder)  # the written config must load
            said = notes(frame, data_cfg, left_out, numbers)
    except (SourceError, InitError, InitSourceError, ConfigError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    header = f"# mlrig config for {got.name}, written by `mlrig init`; edit freely.\n"
    out.write_text(header + yaml.safe_dump(data_cfg, sort_keys=False))
    ds = data_cfg["dataset"]
    console.print(f"wrote {out}: {len(frame)} rows, {len(ds['tables']['main']['columns'])} "
                  f"columns, task {ds['task']}. Next: [bold]mlrig run[/]")  # fmt: skip
    if got.truncated:
        said.insert(0, f"the config is inferred from the first {len(frame):,} rows (--max-rows); "
                       "`mlrig run` reads the whole table")  # fmt: skip
    for note in said:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
