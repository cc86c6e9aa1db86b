"""Stage progress events: each stage appends one JSON line when it starts and when it ends.

`mlrig run` points MLRIG_EVENTS_FILE at a file and shows the events as they arrive; elsewhere
(a cluster, a test) the variable is unset and recording is a no-op.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlrig.components.config import env

# The outputs each finished stage reported in this process (the stage cache keeps them).
REPORTED: dict[str, dict[str, Any]] = {}


def _append(record: dict[str, Any]) -> None:
    target = env.get(env.EVENTS_FILE)
    if not target:
        return
    with Path(target).open("a") as fh:
        fh.write(json.dumps(record, default=str) + "\n")


@contextmanager
def stage(name: str) -> Iterator[dict[str, Any]]:
    """Record a stage's start, end, wall time and the key outputs put in the yielded dict."""
    outputs: dict[str, Any] = {}
    started = time.perf_counter()
    _append({"stage": name, "status": "running"})
    try:
        yield outputs
    except BaseException as exc:
        _append(
            {
                "stage": name,
                "status": "failed",
                "seconds": round(time.perf_counter() - started, 2),
                "error": f"{type(exc).__name__}: {exc}",
            }
        )
        raise
    REPORTED[name] = outputs
    _append(
        {
            "stage": name,
            "status": "done",
            "seconds": round(time.perf_counter() - started, 2),
            "outputs": outputs,
        }
    )


def progress(name: str, done: int, total: int | None, unit: str = "rows") -> None:
    """A running stage's progress (`mlrig run` and `mlrig score` show it on their bar); also
    printed, for a pod's log."""
    _append({"stage": name, "status": "running", "done": done, "total": total, "unit": unit})
    of = f" of {total:,}" if total is not None else ""
    print(f"{name}: {done:,}{of} {unit}", flush=True)


def read(path: Path) -> list[dict[str, Any]]:
    """All events recorded so far."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
