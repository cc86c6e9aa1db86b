"""`mlrig features`: materialize, status, the read-only feature server, the feast CLI's env."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import typer

from mlrig.cli.common import ConfigOpt, ProfileOpt, console, load_or_exit, port_free_or_exit

features_app = typer.Typer(help="Feast helpers.")


def pd_timestamp_utc(text: str) -> Any:
    """An ISO time as an aware UTC datetime (naive: UTC)."""
    import pandas as pd

    stamp = pd.Timestamp(text)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


@features_app.command("materialize")
def features_materialize(
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    full: bool = typer.Option(False, "--full", help="reread every row and reload every view"),
    until: str | None = typer.Option(
        None, "--until", help="load the values as of this ISO time (default: now; a backfill)"
    ),
) -> None:
    """Bring the live feature set (the champion's definitions) up to its sources: new rows past
    each table's watermark reach the offline tables and the online store, with no training run
    (the cluster's CronJob runs this)."""
    from mlrig.components.features.refresh import refresh
    from mlrig.components.sources.errors import SourceError

    loaded = load_or_exit(config, profile)
    try:
        now = pd_timestamp_utc(until) if until else None
    except ValueError:
        console.print(f"[red]--until: '{until}' is not an ISO time[/]")
        raise typer.Exit(2) from None
    try:
        with console.status("refreshing the live feature set") as status:
            result = refresh(loaded, full=full, now=now, say=lambda text: status.update(text))
    except LookupError as exc:
        console.print(str(exc))
        raise typer.Exit(1) from None
    except SourceError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    tables = ", ".join(f"{n} +{t['new_rows']}" for n, t in result["tables"].items())
    online = loaded.config.stores.feast_online_type
    console.print(
        f"materialized feature set {result['feature_set']} up to {result['until']} "
        f"into {online} (new rows: {tables})"
    )


@features_app.command("status")
def features_status(
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    as_json: bool = typer.Option(False, "--json", help="one JSON object per view"),
) -> None:
    """Per live view: newest event online, last materialization, rows, age."""
    from mlrig.components.features.refresh import status

    loaded = load_or_exit(config, profile)
    try:
        rows = status(loaded)
    except LookupError as exc:
        console.print(str(exc))
        raise typer.Exit(1) from None
    for row in rows:
        if as_json:
            print(json.dumps(row, default=str))
            continue
        if row["age_s"] is None:
            console.print(
                f"{row['view']}: as the promotion loaded it (the model's snapshot); not refreshed "
                "since: `mlrig features materialize` brings the sources' new rows"
            )
            continue
        console.print(
            f"{row['view']}: newest event {row['last_event']}, materialized "
            f"{row['materialized_at']}, {row['rows']} rows, {row['age_s'] / 3600:.1f} h old"
        )


@features_app.command("serve")
def features_serve(
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    repo: Path | None = typer.Option(
        None, "--repo", help="a folder with a feature_store.yaml (default: from the mlrig config)"
    ),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(6566, "--port"),
) -> None:
    """Serve online features over HTTP (POST /get-online-features), read-only: Feast's write
    routes (/push, /write-to-online-store, /materialize*) are not there."""
    from mlrig.components.integrations.feast.feature_server import serve

    if repo is not None:
        from mlrig.components.integrations.feast.repo import open_repo

        if not (repo / "feature_store.yaml").is_file():
            console.print(f"[red]--repo {repo}:[/] no feature_store.yaml in it")
            raise typer.Exit(1)
        store = open_repo(repo)
    else:
        from mlrig.components.integrations.feast.feast_store import live_feature_set
        from mlrig.components.integrations.feast.repo import open_store

        loaded = load_or_exit(config, profile)
        store = open_store(loaded.place)
        live = live_feature_set(loaded.place)
        if live is not None:
            console.print(f"the champion's feature service: [bold]{live.service}[/]")
    port_free_or_exit(host, port)
    console.print(f"[bold]feature server[/] (read-only) on http://{host}:{port}")
    serve(store, host, port)


@features_app.command("env")
def features_env(config: Path | None = ConfigOpt, profile: str | None = ProfileOpt) -> None:
    """Print shell exports that fill feature_repo/feature_store.yaml for the feast CLI."""
    from mlrig.components.integrations.feast.repo import feast_env

    for key, value in feast_env(load_or_exit(config, profile).place).items():
        print(f"export {key}={shlex.quote(value)}")
