"""The live refresh: new rows of the live feature set's sources reach its offline tables and the
online store, without a training run or a promotion (`mlrig features materialize`, the CronJob).

The definitions stay pinned: the views are built by the sections the version was registered with
(its definitions.json), whatever mlrig.yaml says now; only a table's source (where it lives) is
taken from the current config. Each table with a time column keeps a watermark, the newest time
accepted so far: the next refresh keeps only rows past it, appends them to the table's
accumulated rows, and rebuilds the views from those (a rolling or aggregate view needs the
history before the new rows). A static table (no time column) is read whole each time. Rows are
accepted by the validate stage's own rules (validate.core.accept_table). Files, folders and HTTP
answers are read and then cut at the watermark; a SQL source gets the cut in its query.

Every table is written to a temporary file and renamed, so a reader (a batch score, the gate,
Feast) sees the old table or the new one, never half; the online store then loads each view's
rows from the previous newest event on (static views: all of them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mlrig.components.config.loader import LoadedConfig
from mlrig.components.config.place import Place
from mlrig.components.config.schema import Config, Features, SqlSource, Table
from mlrig.components.contract.acceptance import accept_table
from mlrig.components.contract.contract import FeatureSet
from mlrig.components.features import freshness
from mlrig.components.features.core import build_view_frame
from mlrig.components.integrations.feast import feast_store
from mlrig.components.integrations.feast.repo import open_store
from mlrig.components.runtime.catalog import EVENT_TS
from mlrig.components.sources.readers import quoted_column, read_source

STATE_FILE = "refresh.json"  # in a version's folder: watermarks, rows, materialization times


def pinned_config(cfg: Config, place: Place, version: str) -> Config:
    """The config whose features and view tables are the version's pinned definitions."""
    path = feast_store.data_dir(place, version) / feast_store.DEFINITIONS_FILE
    if not path.exists():  # a set registered before definitions were kept: today's config
        return cfg
    pinned = json.loads(path.read_text())
    tables = dict(cfg.dataset.tables)
    for name, spec in pinned["tables"].items():
        table = Table.model_validate(spec)
        if name in tables:  # where the data lives now (a profile may move it), same meaning
            table = table.model_copy(update={"source": tables[name].source})
        tables[name] = table
    dataset = cfg.dataset.model_copy(update={"tables": tables, **pinned["dataset"]})
    features = Features.model_validate(pinned["features"])
    return cfg.model_copy(update={"dataset": dataset, "features": features})


def time_column(cfg: Config, table: str) -> str | None:
    """The column a table's watermark is kept on: the main table's event time, else the time of
    the views that read it (None: a static table, read whole)."""
    if table == cfg.dataset.main:
        return cfg.dataset.event_timestamp
    stamps = [v.timestamp for v in cfg.features.views if v.table == table and v.timestamp]
    return stamps[0] if stamps else None


def read_state(place: Place, version: str) -> dict[str, Any]:
    path = feast_store.data_dir(place, version) / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {"tables": {}, "views": {}}


def _write_state(place: Place, version: str, state: dict[str, Any]) -> None:
    path = feast_store.data_dir(place, version) / STATE_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(state, indent=2, default=str))
    tmp.replace(path)


PUSHDOWN_MARGIN = pd.Timedelta(days=1)  # a database's times may be local: any offset fits


def _past_watermark(table: Table, column: str | None, watermark: str | None) -> Any:
    """A SQL source whose query leaves out rows well before the watermark: the database cuts a
    day early (its times may be local, or naive), the exact cut is made on the accepted rows.
    Unix-time columns are not cut in SQL."""
    src = table.source
    spec = table.columns.get(column or "")
    if not (isinstance(src, SqlSource) and spec and spec.type == "datetime" and watermark):
        return src
    if spec.epoch:
        return src
    inner = src.query.strip().rstrip(";")
    early = pd.Timestamp(watermark).tz_convert("UTC") - PUSHDOWN_MARGIN
    stamp = early.tz_localize(None).isoformat(sep=" ")
    query = f"SELECT * FROM ({inner}) AS mlrig_new WHERE {quoted_column(src, column)} > '{stamp}'"
    return src.model_copy(update={"query": query})


def _new_rows(
    root: Path, cfg: Config, name: str, watermark: str | None
) -> tuple[pd.DataFrame, int]:
    """The table's accepted rows past the watermark (all of them without one), and how many
    were rejected."""
    table = cfg.dataset.tables[name]
    column = time_column(cfg, name)
    text = [c for c, spec in table.columns.items() if spec.type == "str"]
    frame = read_source(name, _past_watermark(table, column, watermark), root, text)
    ok, rejects, _ = accept_table(cfg.dataset, name, frame)
    if column and watermark:
        ok = ok[ok[column] > pd.Timestamp(watermark)].reset_index(drop=True)
    return ok, sum(len(r) for r in rejects)


def refresh(
    loaded: LoadedConfig,
    full: bool = False,
    now: datetime | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Bring the live feature set's tables up to their sources and load what is new online.
    full: forget the watermarks, rebuild from every row and reload every view from the start."""
    live = feast_store.live_feature_set(loaded.place)
    if live is None:
        raise LookupError("no live feature set yet: the first promoted model makes its set live")
    now = now or datetime.now(UTC)
    cfg = pinned_config(loaded.config, loaded.place, live.version)
    state = {"tables": {}, "views": {}} if full else read_state(loaded.place, live.version)
    folder = feast_store.data_dir(loaded.place, live.version) / "tables"
    used = list(dict.fromkeys(v.table for v in cfg.features.views))
    accumulated: dict[str, pd.DataFrame] = {}
    previous = {name: t.get("watermark") for name, t in state["tables"].items()}
    report: dict[str, Any] = {"feature_set": live.version, "tables": {}, "views": {}}
    for name in used:
        before = state["tables"].get(name, {})
        column = time_column(cfg, name)
        stored = folder / f"{name}.parquet"
        watermark = before.get("watermark") if column and stored.exists() else None
        say(f"reading {name}" + (f" past {watermark}" if watermark else ""))
        new, rejected = _new_rows(loaded.root, cfg, name, watermark)
        rows = pd.concat([pd.read_parquet(stored), new], ignore_index=True) if watermark else new
        feast_store.write_atomic(rows, stored)
        accumulated[name] = rows
        newest = rows[column].max() if column and len(rows) else None
        state["tables"][name] = {
            "watermark": None if newest is None or pd.isna(newest) else pd.Timestamp(newest),
            "rows": len(rows),
            "refreshed_at": now,
        }
        report["tables"][name] = {"new_rows": len(new), "rejected": rejected, "rows": len(rows)}
    views = _rebuild_views(loaded.place, cfg, live, accumulated, say)
    _load_online(loaded.place, live, cfg, views, state, now, say, previous)
    _write_state(loaded.place, live.version, state)
    ttl = {v.name: v.ttl_hours * 3600 for v in cfg.features.views}
    freshness.write(loaded.workdir, status(loaded, now), ttl)  # what the serving pods export
    report["views"] = state["views"]
    report["until"] = now.isoformat()
    return report


def _rebuild_views(
    place: Place,
    cfg: Config,
    live: FeatureSet,
    accumulated: dict[str, pd.DataFrame],
    say: Callable[[str], None],
) -> dict[str, pd.DataFrame]:
    frames = {}
    for view in cfg.features.views:
        if view.name not in live.views.values():
            continue
        say(f"building {view.name}")
        frame = build_view_frame(cfg, view, accumulated[view.table])
        feast_store.write_atomic(
            frame, feast_store.view_data_path(place, live.version, view), place
        )
        frames[view.name] = frame
    return frames


def _load_online(
    place: Place,
    live: FeatureSet,
    cfg: Config,
    frames: dict[str, pd.DataFrame],
    state: dict[str, Any],
    now: datetime,
    say: Callable[[str], None],
    watermarks: dict[str, Any],
) -> None:
    """Materialize each view's rows up to `now` from the earlier of its table's previous
    watermark (rows of new events are stamped after it) and the previous load's end (rows
    stamped in between, such as a window's end, are due now); static views: from the start."""
    store = open_store(place)
    specs = {v.name: v for v in cfg.features.views}
    for feast_name, logical in live.views.items():
        frame = frames[logical]
        spec = specs[logical]
        marks = [watermarks.get(spec.table), state["views"].get(logical, {}).get("until")]
        marks = [pd.Timestamp(m) for m in marks if m]
        if spec.kind == "static" or len(marks) < 2:
            start = feast_store.STATIC_TS.to_pydatetime()
        else:
            start = min(marks).to_pydatetime()
        if start < now:
            say(f"loading {logical} online from {start.isoformat()}")
            store.materialize(start_date=start, end_date=now, feature_views=[feast_name])
        due = frame[EVENT_TS][frame[EVENT_TS] <= pd.Timestamp(now)] if len(frame) else frame
        newest = due.max() if len(due) else None
        state["views"][logical] = {
            "rows": len(frame),
            "last_event": None if newest is None or pd.isna(newest) else pd.Timestamp(newest),
            "until": now,
            "materialized_at": datetime.now(UTC),
            "loaded_from": start,
        }
    if feast_store.load_schedules(place, store, live, specs, now, frames):
        say("loaded the windows' next changes online")


def status(loaded: LoadedConfig, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per live view: its newest event loaded online, when it was last materialized, its rows
    and its age (now minus that newest event, in seconds); None where never refreshed."""
    live = feast_store.live_feature_set(loaded.place)
    if live is None:
        raise LookupError("no live feature set yet: the first promoted model makes its set live")
    now = now or datetime.now(UTC)
    views = read_state(loaded.place, live.version)["views"]
    out = []
    for logical in live.views.values():
        seen = views.get(logical, {})
        last = pd.Timestamp(seen["last_event"]) if seen.get("last_event") else None
        out.append(
            {
                "feature_set": live.version,
                "view": logical,
                "last_event": None if last is None else last.isoformat(),
                "materialized_at": seen.get("materialized_at"),
                "rows": seen.get("rows"),
                "age_s": None if last is None else (pd.Timestamp(now) - last).total_seconds(),
            }
        )
    return out
