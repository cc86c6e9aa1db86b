"""A rerun with nothing changed answers from the last run's record, without starting a pipeline.

Every stage of such a rerun would be a cache hit (cache.py), ingest would read the same bytes,
register would find the run already registered and materialize would find the champion's set
live: the results are the last run's. Starting the eight KFP task processes to learn that costs
about twenty seconds, so `mlrig run` first computes the run's key here: mlrig's code, the shaping
libraries' versions, the whole effective config, every MLRIG_* variable the pipeline would see and
the bytes of every source. A source that is not a file (SQL, HTTP) can change without its bytes
being here, so a config with one has no key and always runs. The record is kept after a
successful run when the key was the same before and after it (a source written during the run
leaves no record), and it is used only while the registry and the live feature set still say
what the run left them saying (checked by the caller; an error while checking means "run").
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mlrig.components.config.schema import Config
from mlrig.components.runtime import cache

FOLDER = "runs"  # under <workdir>/cache/
KEEP = 5


def run_key(
    cfg: Config, pipeline: str, child_env: dict[str, str], sources: dict[str, Path] | None
) -> str | None:
    """The run's key, or None when a table is not read from a file here (`sources`: each
    table's file or folder, None when one is not: sources.readers.local_files)."""
    if sources is None or set(sources) != set(cfg.dataset.tables):
        return None
    parts = [pipeline, cache.code_digest(), cache.library_digest()]
    parts.append(json.dumps(cfg.model_dump(mode="json"), sort_keys=True))
    seen = {k: v for k, v in {**os.environ, **child_env}.items() if k.startswith("MLRIG")}
    parts.append(json.dumps(seen, sort_keys=True))
    for name in sorted(sources):
        if not sources[name].exists():
            return None
        parts.append(f"{name}\0{cache.folder_digest(sources[name])}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def recall(workdir: Path, key: str | None) -> dict[str, Any] | None:
    """The record of the last successful run with this key, if one is kept."""
    if key is None:
        return None
    path = workdir / "cache" / FOLDER / f"{key}.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    path.touch()
    return record if isinstance(record, dict) and "state" in record else None


def remember(workdir: Path, key: str, record: dict[str, Any]) -> None:
    """Keep a run's record (atomically; the KEEP most recently used records stay)."""
    folder = workdir / "cache" / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".run-", dir=folder)
    with os.fdopen(handle, "w") as out:
        json.dump(record, out, default=str)
    Path(tmp).replace(folder / f"{key}.json")
    kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[KEEP:]:
        old.unlink(missing_ok=True)
