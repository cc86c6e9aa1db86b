"""Follow a pipeline child process: a progress bar over its stage events, then a summary."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from mlrig.components.runtime import events

STAGES = ["ingest", "validate", "features", "eda", "train", "evaluate", "register", "materialize"]


def _latest(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    state: dict[str, dict[str, Any]] = {}
    for rec in records:
        state[rec["stage"]] = rec
    return state


def _running(name: str, record: dict[str, Any]) -> str:
    """A running stage's name, with its progress when it reported some (score: rows done)."""
    if "done" not in record:
        return name
    total = f"/{record['total']:,}" if record.get("total") is not None else ""
    return f"{name} {record['done']:,}{total} {record.get('unit', '')}".rstrip()


def follow(
    proc: subprocess.Popen, events_file: Path, console: Console, stages: list[str] = STAGES
) -> dict[str, dict]:
    """Show progress until the process exits; return the last event of each stage."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} stages"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=len(stages))
        while True:
            state = _latest(events.read(events_file))
            done = sum(1 for s in state.values() if s["status"] == "done")
            running = [n for n, s in state.items() if s["status"] == "running"]
            now = _running(running[-1], state[running[-1]]) if running else "starting"
            bar.update(task, completed=done, description=now)
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    return _latest(events.read(events_file))


def _short(outputs: dict[str, Any]) -> str:
    parts = []
    for key, value in outputs.items():
        if key == "report":
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        parts.append(f"{key}: {value}")
    return "; ".join(parts)


def summary_table(
    state: dict[str, dict[str, Any]], stages: list[str] = STAGES, title: str = "training"
) -> Table:
    """One row a stage: status, wall time, key outputs."""
    table = Table(title=f"mlrig {title} pipeline")
    table.add_column("stage")
    table.add_column("status")
    table.add_column("wall s", justify="right")
    table.add_column("key outputs", overflow="fold")
    colours = {"done": "green", "failed": "red", "running": "yellow"}
    for name in stages:
        rec = state.get(name, {"status": "not run"})
        status = rec["status"]
        detail = rec.get("error") or _short(rec.get("outputs", {}))
        table.add_row(
            name,
            f"[{colours.get(status, 'dim')}]{status}[/]",
            f"{rec.get('seconds', ''):}",
            detail,
        )
    return table
