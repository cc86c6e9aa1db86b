"""The monitor's latest numbers for Prometheus. A check (a CronJob in the cluster) is a batch job
that nothing scrapes, so it writes its drift scores, window metrics and decision beside the
prediction log (the volume the service already mounts), and the service exports them as gauges
on its /metrics."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

FILE = "monitor-gauges.json"


def gauges_path(workdir: Path) -> Path:
    return workdir / "predictions" / FILE


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def gauge_values(decision: dict[str, Any]) -> dict[str, Any]:
    """What a decision (monitor.check.decide) says, as the gauges' values."""
    drift = decision["drift"]
    perf = decision["performance"]
    windows = perf.get("windows") or []
    latest = windows[-1] if windows else {}
    return {
        "checked_at": time.time(),
        "model_version": perf.get("version"),
        "retrain": int(bool(decision["retrain"])),
        "drifted_features": len(drift.get("drifted", [])),
        "prediction_psi": _finite(drift.get("prediction_drift", {}).get("psi")),
        "feature_psi": {
            f["column"]: _finite(f["psi"])
            for f in drift.get("features", [])
            if _finite(f["psi"]) is not None
        },
        "window": str(latest.get("window", "")),
        "window_metrics": {
            k: _finite(v)
            for k, v in latest.items()
            if k not in ("window", "rows") and _finite(v) is not None
        },
        "window_rows": latest.get("rows", 0),
        "reasons_moved": len(drift.get("reasons", {}).get("moved", [])),
        "contribution_share": {
            name: _finite(share["current"])
            for name, share in drift.get("reasons", {}).get("shares", {}).items()
            if _finite(share["current"]) is not None
        },
    }


def write(workdir: Path, decision: dict[str, Any]) -> Path:
    """Replace the gauges file atomically (the service may be reading it)."""
    path = gauges_path(workdir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(gauge_values(decision), default=str))
    os.replace(tmp, path)
    return path


def read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
