"""`mlrig explain REQUEST_ID`: why a logged prediction came out as it did."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mlrig.cli.common import ConfigOpt, ProfileOpt, console, load_or_exit


def explain(
    request_id: str = typer.Argument(..., help="the request_id of a logged prediction"),
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Each input's contribution to a logged prediction, as /predict with explain: true gave it."""
    from mlrig.components.monitor.explained import NotLogged, explain_logged

    loaded = load_or_exit(config, profile)
    try:
        found = explain_logged(loaded.place, request_id)
    except NotLogged as exc:
        console.print(f"[red]request_id: {exc}[/]")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(found, default=str))
        return
    why = found["explanation"]
    console.print(
        f"[bold]{found['model']} v{found['model_version']}[/] answered {found['prediction']}"
    )
    if why["method"] == "unavailable":
        console.print(f"no explanation: {why['reason']}")
        return
    console.print(f"{why['method']} · {why['output']}: base {why['base']:.6g}")
    ranked = sorted(why["contributions"].items(), key=lambda kv: -abs(kv[1]))
    for name, value in ranked:
        console.print(f"  {value:+.6g}  {name} = {found['inputs'].get(name)!r}")
