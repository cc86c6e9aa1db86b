"""`mlrig run` with nothing changed: the last run's results, without starting the pipeline
(components/runtime/run_memo.py says when that holds)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from mlrig.cli import progress
from mlrig.cli.common import console
from mlrig.components.config.loader import LoadedConfig
from mlrig.components.runtime import run_memo


def key(loaded: LoadedConfig, child_env: dict[str, str]) -> str | None:
    """The training run's key (None: it must run; run_memo.run_key)."""
    from mlrig.components.sources.readers import local_files

    files = local_files(loaded.config.dataset.tables, loaded.root)
    return run_memo.run_key(loaded.config, "training", child_env, files)


def _live_champion(loaded: LoadedConfig) -> str:
    """The champion whose feature set the materialize stage last made live ("" before any)."""
    from mlrig.components.integrations.feast.feast_store import LIVE_CHAMPION_FILE

    marker = loaded.path(loaded.config.stores.feature_data_dir) / LIVE_CHAMPION_FILE
    return marker.read_text().strip() if marker.exists() else ""


def keep(loaded: LoadedConfig, before: str | None, child_env: dict, state: dict) -> None:
    """Record a successful run under its key, if its sources did not change while it ran."""
    reg = state.get("register", {}).get("outputs", {})
    run_prefix = state.get("train", {}).get("outputs", {}).get("run_id")
    if before is None or before != key(loaded, child_env):
        return
    if not (reg.get("version") and reg.get("champion_version") and run_prefix):
        return
    record = {
        "state": state,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_prefix": run_prefix,
        "live_champion": _live_champion(loaded),
    }
    run_memo.remember(loaded.workdir, before, record)


def recalled(loaded: LoadedConfig, run_key: str | None) -> dict[str, dict] | None:
    """The last run's stage states when nothing changed since (printed as such), else None."""
    record = run_memo.recall(loaded.workdir, run_key)
    if record is None:
        return None
    if _live_champion(loaded) != record.get("live_champion"):
        return None
    from mlrig.components.integrations.mlflow import registry, tracking

    state: dict[str, Any] = copy.deepcopy(record["state"])
    try:  # keep() recorded only runs that registered a version; a damaged record: the run goes
        reg = state["register"]["outputs"]
        version, champion = int(reg["version"]), int(reg["champion_version"])
    except (KeyError, TypeError, ValueError):
        return None
    mlflow = tracking.configure(loaded.place)
    name = loaded.config.model.name
    if not registry.still_as_left(mlflow, name, version, record["run_prefix"], champion):
        return None
    for stage in state.values():
        stage.update({"status": "unchanged", "seconds": 0.0})
    reg.update(
        promoted=False,
        shadowing=False,
        reason=f"nothing changed since the run of {record['at']}: v{version} is that run's",
    )
    console.print(
        f"[bold]mlrig training[/] · nothing changed since the run of {record['at']} (sources, "
        "config, code and libraries are the same; its model version and the champion are as "
        "it left them): its results stand. `mlrig run --no-cache` runs every stage."
    )
    console.print(progress.summary_table(state, progress.STAGES, "training"))
    return state
