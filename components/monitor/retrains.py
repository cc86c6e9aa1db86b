"""When the loop last started a retrain, in the data's time: `monitor.min_days_served` counts the
days of requests since then, so a retrain that lost the gate (or failed) is not started again at
the next check, while the same drift is still in the window."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

FILE = "last-retrain.json"


def _path(workdir: Path) -> Path:
    return workdir / "monitor" / FILE


def last_started(workdir: Path) -> pd.Timestamp | None:
    """The newest request's event time when the last retrain started (None: never)."""
    try:
        return pd.Timestamp(json.loads(_path(workdir).read_text())["newest_event"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record_start(workdir: Path, newest_event: str | None) -> None:
    """A retrain starts now, with the log's requests up to newest_event (UTC ISO)."""
    if newest_event is None:
        return
    path = _path(workdir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"newest_event": newest_event}))
    tmp.replace(path)


def days_served(first: pd.Timestamp, last: pd.Timestamp, started: pd.Timestamp | None) -> float:
    """Days of event time from the later of the champion's first request and the last retrain's
    start to its newest request."""
    since = max(first, started) if started is not None else first
    return max(0.0, (last - since).total_seconds() / 86_400)
