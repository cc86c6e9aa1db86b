"""Windowed aggregates online as of the request, not as of the last materialization.

An aggregate view's table holds a row when an event happens and one when it leaves each window
(features/core.py), so offline a lookup at any moment sees exactly its trailing window. The online
store keeps one row per key: the latest at or before the materialization's end. The rows after
that end are known already (no event can leave a window early): each materialization writes them,
per key, to a companion view (`<view>__next`, online only, in no feature service), stamped with the
row they follow. A read whose request is later than a key's next change takes that change's values
and time, so the TTL and the age are judged on it as the offline join judges them. A schedule
whose stamp is not the value's (older than a newer materialized row) is ignored.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.config.place import Place
from mlrig.components.integrations.feast import sources
from mlrig.components.integrations.feast.unchecked import import_feast
from mlrig.components.runtime.catalog import EVENT_TS

SUFFIX = "__next"
COLUMN = "next"  # JSON: {"at": [epoch ns, ...], "values": {feature: [value, ...]}}


def view_name(feast_name: str) -> str:
    """The companion view of a live aggregate view."""
    return f"{feast_name}{SUFFIX}"


def scheduled(spec: Any) -> bool:
    """Whether a view's values change with time alone (an aggregate over windows)."""
    return spec.kind == "aggregate" and any(a.window_days for a in spec.aggregations)


def table_path(view_path: Path) -> Path:
    """Where a live view's schedule table lives, beside its own table."""
    return view_path.with_name(f"{view_path.stem}.next.parquet")


def pending(frame: pd.DataFrame, keys: list[str], now: Any) -> pd.DataFrame:
    """Per key with rows after `now`: the key, the time of its latest row at or before `now`
    (what the online store holds) and the later rows as JSON. Keys with nothing later, or
    nothing at or before `now`, are left out."""
    now = pd.Timestamp(now)
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
    empty = frame[keys].iloc[:0].assign(**{EVENT_TS: frame[EVENT_TS].iloc[:0], COLUMN: ""})
    later = frame[frame[EVENT_TS] > now]
    if later.empty:
        return empty.astype({COLUMN: str})
    base = frame[frame[EVENT_TS] <= now].groupby(keys, sort=False)[EVENT_TS].max()
    later = later.sort_values([*keys, EVENT_TS], kind="stable")
    features = [c for c in frame.columns if c not in keys and c != EVENT_TS]
    groups = later.groupby(keys, sort=False)
    starts = np.r_[0, np.cumsum(groups.size().to_numpy())]
    at = later[EVENT_TS].dt.tz_convert("UTC").to_numpy().astype("datetime64[ns]").astype("int64")
    values = {f: later[f].to_numpy(dtype=object) for f in features}
    rows = []
    for i, key in enumerate(groups.size().index):
        key = key if isinstance(key, tuple) else (key,)
        stamp = base.get(key if len(keys) > 1 else key[0])
        if stamp is None:
            continue
        part = slice(starts[i], starts[i + 1])
        later_values = {f: [_plain(v) for v in values[f][part]] for f in features}
        plan = {"at": at[part].tolist(), "values": later_values}
        rows.append((*key, stamp, json.dumps(plan)))
    if not rows:
        return empty.astype({COLUMN: str})
    out = pd.DataFrame(rows, columns=[*keys, EVENT_TS, COLUMN])
    return out.astype({k: frame[k].dtype for k in keys})


def _plain(value: Any) -> Any:
    """A JSON value: None for a missing number."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def parse(text: Any) -> tuple[list[int], dict[str, list[Any]]] | None:
    """A stored schedule: change times (epoch ns) and each feature's values at them."""
    if not text:
        return None
    plan = json.loads(text)
    return plan["at"], plan["values"]


def due(plan: tuple[list[int], dict[str, list[Any]]], at_ns: int) -> int | None:
    """The index of the latest change at or before `at_ns`, or None when none is due yet."""
    times = plan[0]
    index = int(np.searchsorted(np.asarray(times, dtype="int64"), at_ns, side="right")) - 1
    return index if index >= 0 else None


def companion_view(
    place: Place, name: str, schema: list[Any], entities: list[Any], path: Path, tags: dict
) -> Any:
    """The online-only companion of a live aggregate view: its changes after the last
    materialization, in no feature service. schema: the view's, keys first."""
    import_feast()
    from feast import FeatureView, Field
    from feast.types import String

    companion = view_name(name)
    source = sources.batch_source(place, f"{companion}_source", str(table_path(path)))
    keys = schema[: len(entities)]
    return FeatureView(
        name=companion,
        entities=entities,
        ttl=timedelta(0),
        source=source,
        schema=[*keys, Field(name=COLUMN, dtype=String)],
        online=True,
        tags={**tags, "schedule_of": name},
    )
