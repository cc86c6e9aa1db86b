"""Feature tables from validated data: static attributes, time series, rolling outcome history
and aggregates over an event table. Pure pandas; Feast lives in feast/feast_store.py."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlrig.components.config.schema import Aggregation, Config, FeatureView
from mlrig.components.contract.timeutil import epoch_seconds
from mlrig.components.integrations.feast.feast_store import STATIC_TS
from mlrig.components.runtime.catalog import EVENT_TS, SEP

FIRST_EPOCH, LAST_EPOCH = "first_event_epoch", "last_event_epoch"
DAYS_SINCE = {FIRST_EPOCH: "days_since_first", LAST_EPOCH: "days_since_last"}
JUST_AFTER = pd.Timedelta(microseconds=1)  # an event counts only strictly after it happened


def _window_name(days: float | None) -> str:
    return "all" if days is None else f"{days:g}d"


def _agg_names(agg: Aggregation) -> list[tuple[str, str, float | None]]:
    """(feature name, function, window in days or None for all history)."""
    windows: list[float | None] = list(agg.window_days)
    if agg.lifetime or not windows:
        windows.append(None)
    prefix = f"{agg.column}_" if agg.column else ""
    return [(f"{prefix}{fn}_{_window_name(w)}", fn, w) for fn in agg.functions for w in windows]


def feature_columns(cfg: Config, view: FeatureView) -> dict[str, str]:
    """The stored features of a view with their kind: 'str' (categorical) or 'float'."""
    if view.kind == "rolling":
        return {f"{c}_mean_last{w}": "float" for c in view.features for w in view.windows}
    if view.kind == "aggregate":
        out = {name: "float" for agg in view.aggregations for name, _, _ in _agg_names(agg)}
        if view.recency:
            out.update({FIRST_EPOCH: "float", LAST_EPOCH: "float"})
        return out
    types = cfg.dataset.tables[view.table].all_columns()
    return {c: "str" if types[c] == "str" else "float" for c in view.features}


def zero_if_missing(cfg: Config) -> list[str]:
    """Inputs of aggregate views that are 0 for an entity without events (counts and sums)."""
    out = []
    for view in cfg.features.views:
        for agg in view.aggregations:
            out += [
                f"{view.name}{SEP}{n}" for n, fn, _ in _agg_names(agg) if fn in ("count", "sum")
            ]
    return out


def view_inputs(cfg: Config, view: FeatureView) -> tuple[dict[str, str], dict[str, str]]:
    """(model inputs of a view with their kind, recency inputs -> the stored epoch column)."""
    inputs, recency = {}, {}
    for name, kind in feature_columns(cfg, view).items():
        if name in DAYS_SINCE:
            recency[f"{view.name}{SEP}{DAYS_SINCE[name]}"] = f"{view.name}{SEP}{name}"
            inputs[f"{view.name}{SEP}{DAYS_SINCE[name]}"] = "float"
        else:
            inputs[f"{view.name}{SEP}{name}"] = kind
    return inputs, recency


def _keys(cfg: Config, view: FeatureView) -> list[str]:
    joins = {e.name: e.join_key for e in cfg.features.entities}
    return [joins[e] for e in view.entities]


def _static(view: FeatureView, frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame[[*keys, *view.features]].dropna(subset=keys).drop_duplicates(keys, keep="last")
    return out.assign(**{EVENT_TS: STATIC_TS})


def _timeseries(view: FeatureView, frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    assert view.timestamp is not None
    out = frame[[*keys, view.timestamp, *view.features]].rename(columns={view.timestamp: EVENT_TS})
    out = out.dropna(subset=[*keys, EVENT_TS])
    return out.drop_duplicates([*keys, EVENT_TS], keep="last")


def _rolling(view: FeatureView, frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean of each feature over the last N known outcomes per key, stamped when the Nth
    became known, so a point-in-time join only ever sees outcomes from before the event."""
    assert view.timestamp is not None
    base = frame[[*keys, view.timestamp, *view.features]].rename(columns={view.timestamp: EVENT_TS})
    base = base.dropna(subset=[*keys, EVENT_TS, *view.features])
    base = base.sort_values([*keys, EVENT_TS], kind="stable").reset_index(drop=True)
    grouped = base.groupby(keys, sort=False)
    out = base[[*keys, EVENT_TS]].copy()
    for col in view.features:
        for window in view.windows:
            rolled = grouped[col].rolling(window, min_periods=1).mean()
            out[f"{col}_mean_last{window}"] = rolled.reset_index(
                level=list(range(len(keys))), drop=True
            )
    return out.drop_duplicates([*keys, EVENT_TS], keep="last").reset_index(drop=True)


def _aggregate(view: FeatureView, frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Aggregates per key as they change over time. Rows are emitted when an event happens and
    when it leaves each window, so a point-in-time lookup at any moment sees exactly the events
    of the trailing window (strictly before that moment)."""
    assert view.timestamp is not None
    value_cols = sorted({a.column for a in view.aggregations if a.column})
    base = frame[[*keys, view.timestamp, *value_cols]].rename(columns={view.timestamp: EVENT_TS})
    base = base.dropna(subset=[*keys, EVENT_TS]).assign(_n=1.0)
    base[value_cols] = base[value_cols].apply(pd.to_numeric, errors="coerce")
    windows = sorted({w for a in view.aggregations for w in a.window_days})
    expiries = [
        base[keys].assign(**{EVENT_TS: base[EVENT_TS] + pd.Timedelta(days=w)}) for w in windows
    ]
    rows = pd.concat([base, *expiries], ignore_index=True)  # expiry rows: values NaN
    rows = rows.sort_values([*keys, EVENT_TS], kind="stable").reset_index(drop=True)
    # rows are sorted by key then time, and groupby(sort=False) keeps that order, so results
    # line up with rows position by position
    timed = rows.set_index(EVENT_TS).groupby(keys, sort=False)
    out = rows[[*keys, EVENT_TS]].copy()
    for agg in view.aggregations:
        for name, fn, days in _agg_names(agg):
            source = "_n" if fn == "count" else (agg.column or "_n")
            if days is None:
                out[name] = _expanding(rows, source, fn, keys).to_numpy()
                continue
            rolled = timed[source].rolling(pd.Timedelta(days=days))
            values = (rolled.sum() if fn == "count" else getattr(rolled, fn)()).to_numpy()
            out[name] = np.nan_to_num(values) if fn in ("count", "sum") else values
    if view.recency:
        epoch = epoch_seconds(rows[EVENT_TS]).where(rows["_n"].notna())
        out[FIRST_EPOCH] = epoch.groupby([rows[k] for k in keys]).cummin()
        out[LAST_EPOCH] = epoch.groupby([rows[k] for k in keys]).cummax()
        out[[FIRST_EPOCH, LAST_EPOCH]] = out.groupby(keys)[[FIRST_EPOCH, LAST_EPOCH]].ffill()
    out[EVENT_TS] = out[EVENT_TS] + JUST_AFTER
    return out.drop_duplicates([*keys, EVENT_TS], keep="last").reset_index(drop=True)


def _expanding(rows: pd.DataFrame, source: str, fn: str, keys: list[str]) -> pd.Series:
    by = [rows[k] for k in keys]
    present = rows[source].notna().astype("float64")
    if fn == "count":
        return present.groupby(by).cumsum()
    total = rows[source].fillna(0.0).groupby(by).cumsum()
    if fn == "sum":
        return total
    if fn == "mean":
        return total / present.groupby(by).cumsum().where(lambda s: s > 0)
    running = getattr(rows[source].groupby(by), f"cum{fn}")()
    return running.groupby(by).ffill()


def build_view_frame(cfg: Config, view: FeatureView, frame: pd.DataFrame) -> pd.DataFrame:
    """The offline table of one feature view: join keys, event_timestamp, stored features."""
    builder = {
        "static": _static,
        "timeseries": _timeseries,
        "rolling": _rolling,
        "aggregate": _aggregate,
    }[view.kind]
    out = builder(view, frame, _keys(cfg, view))
    for name, kind in feature_columns(cfg, view).items():
        if kind == "str":
            out[name] = out[name].astype(object).where(out[name].notna(), None)
        else:
            out[name] = pd.to_numeric(out[name], errors="coerce").astype("float64")
    return out.reset_index(drop=True)


def date_part_inputs(cfg: Config) -> list[str]:
    spec = cfg.dataset.date_parts
    return [f"{spec.column}_{p}" for p in spec.parts] if spec else []


def model_inputs(cfg: Config) -> tuple[list[str], list[str], dict[str, str]]:
    """(every model input in a fixed order, the categorical ones, recency inputs): Feast
    features, request features, date parts."""
    kinds: dict[str, str] = {}
    recency: dict[str, str] = {}
    for view in cfg.features.views:
        inputs, rec = view_inputs(cfg, view)
        kinds.update(inputs)
        recency.update(rec)
    types = cfg.dataset.tables[cfg.dataset.main].all_columns()
    for col in cfg.dataset.request_features or []:
        kinds[col] = "str" if types[col] == "str" else "float"
    kinds.update({c: "float" for c in date_part_inputs(cfg)})
    return list(kinds), [c for c, k in kinds.items() if k == "str"], recency


def text_inputs(cfg: Config) -> list[str]:
    """The model inputs that are free text (columns marked text: true): request features, and
    stored features of static and timeseries views (a product's description); carried as text
    like a categorical, encoded as topics instead of levels."""
    main = cfg.dataset.tables[cfg.dataset.main]
    out = [
        c for c in cfg.dataset.request_features or [] if c in main.columns and main.columns[c].text
    ]
    for view in cfg.features.views:
        columns = cfg.dataset.tables[view.table].columns
        if view.kind in ("static", "timeseries"):
            out += [
                f"{view.name}{SEP}{c}" for c in view.features if c in columns and columns[c].text
            ]
    return out


def assert_no_leakage(cfg: Config, inputs: list[str]) -> None:
    """Fail if a column known only after the event would reach the model as-is.

    Rolling and aggregate views are exempt: they summarize events stamped when they became known.
    """
    summaries = {v.name for v in cfg.features.views if v.kind in ("rolling", "aggregate")}
    checked = set()
    for column in inputs:
        view, _, name = column.rpartition(SEP)
        if view not in summaries:
            checked.add(name)
    leaks = sorted(checked & set(cfg.dataset.forbidden_features))
    if leaks:
        raise ValueError(f"model inputs include forbidden columns {leaks}")
