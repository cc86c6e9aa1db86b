"""Each live view's freshness as the serving pods export it to Prometheus.

`mlrig features materialize` writes what `refresh.status` says (per view: newest event loaded
online, last materialization, rows, TTL) beside the monitor's gauges, in the one folder of the
data volume that the serving pods mount (read-only); the service turns it into gauges, the age
computed at each export, and Prometheus' rules alert on a view older than its TTL or not
materialized for two hours (manifests/base/prometheus-rules.yml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

FILE = "feature-freshness.json"


def freshness_path(workdir: Path) -> Path:
    return workdir / "predictions" / FILE


def write(workdir: Path, views: list[dict[str, Any]], ttl: dict[str, float]) -> Path:
    """Keep each view's newest event and materialization as Unix times, with its rows and TTL
    in seconds (0: none) (written whole, then renamed: the service reads the old file or the
    new one)."""
    rows = [
        {
            "view": v["view"],
            "last_event": _unix(v.get("last_event")),
            "materialized_at": _unix(v.get("materialized_at")),
            "rows": v.get("rows"),
            "ttl_s": ttl.get(v["view"], 0.0),
        }
        for v in views
    ]
    path = freshness_path(workdir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"views": rows}, indent=2))
    tmp.replace(path)
    return path


def read(path: Path) -> list[dict[str, Any]]:
    """The views in the file; none when it is missing or unreadable (never materialized)."""
    try:
        return list(json.loads(path.read_text())["views"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _unix(value: Any) -> float | None:
    if value is None or value == "":
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.timestamp()
