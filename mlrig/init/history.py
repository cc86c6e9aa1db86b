"""`mlrig init` for a table of events by entity (a store's daily sales, a customer's orders): each
row's own past as features. Given --entity and --timestamp, init adds an aggregate feature view
over the table itself: per entity, the count of earlier events and the mean and max of the
target over trailing windows and all history, and the days since the first and last event. Each
event counts only strictly after it happened (point in time, through Feast), so a row never sees
its own target.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from mlrig.components.contract.timeutil import to_utc

WINDOW_CHOICES = (1, 7, 28, 90, 365)  # days
MAX_WINDOWS = 2
MIN_EVENTS_PER_ENTITY = 3  # fewer on median: there is no history to speak of


def windows(frame: pd.DataFrame, keys: list[str], timestamp: str) -> list[float]:
    """Trailing windows that hold a few of an entity's events (at least three times the median
    gap between them) and fit four times in the table's time span; at most two, shortest first."""
    times = to_utc(frame[timestamp], "UTC")
    data = pd.DataFrame({"t": times, **{k: frame[k] for k in keys}}).dropna().sort_values("t")
    if data.empty:
        return []
    gaps = data.groupby(keys)["t"].diff().dropna().dt.total_seconds() / 86400
    span = (data["t"].max() - data["t"].min()).total_seconds() / 86400
    gap = float(gaps.median()) if len(gaps) else span
    chosen = [float(w) for w in WINDOW_CHOICES if w >= 3 * gap and w <= span / 4]
    return chosen[:MAX_WINDOWS]


def history_view(
    frame: pd.DataFrame,
    config: dict[str, Any],
    keys: list[str],
    timestamp: str,
) -> dict[str, Any] | None:
    """The aggregate view of the main table's own past per entity, or None when the entities
    have too little history (most appear once or twice)."""
    events = frame.dropna(subset=keys).groupby(keys).size()
    if events.empty or events.median() < MIN_EVENTS_PER_ENTITY:
        return None
    ds = config["dataset"]
    days = windows(frame, keys, timestamp)
    aggregations: list[dict[str, Any]] = [{"functions": ["count"], "window_days": days}]
    binary = ds["task"] == "classification" and frame[ds["target"]].dropna().nunique() == 2
    rate_of = None
    if ds["task"] == "regression" or (binary and ds.get("positive_label") is None):
        rate_of = ds["target"]  # amounts, or 0/1 classes: their mean is a rate
    elif binary:  # 'yes'/'no': a 1/0 column of the positive class, derived in validate
        rate_of = _positive_column(config, frame)
    if rate_of is not None:
        functions = ["mean", "max"] if ds["task"] == "regression" else ["mean"]
        aggregations.append({"column": rate_of, "functions": functions, "window_days": list(days)})
    return {
        "name": f"{'_'.join(keys)}_history",
        "kind": "aggregate",
        "table": ds["main"],
        "entity": keys[0] if len(keys) == 1 else keys,
        "timestamp": timestamp,
        "aggregations": aggregations,
        "recency": True,
    }


def _positive_column(config: dict[str, Any], frame: pd.DataFrame) -> str:
    """Add to the main table a derived column, 1 where the target is the positive class; its
    name ('fraud_yes')."""
    ds = config["dataset"]
    target, positive = ds["target"], ds["positive_label"]
    name = re.sub(r"\W+", "_", f"{target}_{positive}").strip("_") or "positive"
    while name in frame.columns:
        name += "_"
    main = ds["tables"][ds["main"]]
    main.setdefault("derive", []).append(
        {"name": name, "equals": {"column": target, "value": positive}}
    )
    return name


def note(view: dict[str, Any], target: str) -> str:
    """What init says about the view it wrote."""
    days = view["aggregations"][0]["window_days"]
    over = (
        f"the last {', '.join(f'{d:g}' for d in days)} days and all history"
        if days
        else ("all history")
    )
    of_target = [(a["column"], a["functions"]) for a in view["aggregations"] if a.get("column")]
    uses_target = bool(of_target)
    what = "count"
    if uses_target:
        column, functions = of_target[0]
        rate = (
            "" if column == target else f" ('{column}': 1 where '{target}' is the positive class)"
        )
        what = f"count, {' and '.join(functions)} of '{column}'{rate}"
    said = (
        f"features.views.{view['name']}: per {view['entity']}, its earlier events over {over} "
        f"({what}) and the days since its first and last event are model inputs, each row "
        "seeing only events before it"
    )
    if uses_target:
        said += (
            f". This takes each row's '{target}' as known when the row happens; if it is "
            "known only later, remove that aggregation"
        )
    return said
