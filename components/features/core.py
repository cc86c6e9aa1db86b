"""Feature tables from validated data: static attributes, time series, and rolling outcome history.

Pure pandas; Feast registration and retrieval live in feast_store.py.
"""

from __future__ import annotations

import pandas as pd

from mlrig.components.config.schema import Config, DateParts, FeatureView

EVENT_TS = "event_timestamp"
STATIC_TS = pd.Timestamp("1970-01-01", tz="UTC")
SEP = "__"


def feature_names(view: FeatureView) -> list[str]:
    """The names a view's features get in its Feast table."""
    if view.kind == "rolling":
        return [f"{col}_mean_last{w}" for col in view.features for w in view.windows]
    return list(view.features)


def qualified(view: FeatureView) -> list[str]:
    """Column names as Feast returns them with full_feature_names=True."""
    return [f"{view.name}{SEP}{name}" for name in feature_names(view)]


def _static(view: FeatureView, frame: pd.DataFrame, key: str) -> pd.DataFrame:
    out = frame[[key, *view.features]].dropna(subset=[key]).drop_duplicates(key, keep="last")
    return out.assign(**{EVENT_TS: STATIC_TS})


def _timeseries(view: FeatureView, frame: pd.DataFrame, key: str) -> pd.DataFrame:
    assert view.timestamp is not None
    out = frame[[key, view.timestamp, *view.features]].rename(columns={view.timestamp: EVENT_TS})
    out = out.dropna(subset=[key, EVENT_TS])
    return out.drop_duplicates([key, EVENT_TS], keep="last")


def _rolling(view: FeatureView, frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Mean of each feature over the last N known outcomes per key, stamped when the Nth
    became known, so a point-in-time join only ever sees outcomes from before the event."""
    assert view.timestamp is not None
    base = frame[[key, view.timestamp, *view.features]].rename(columns={view.timestamp: EVENT_TS})
    base = base.dropna(subset=[key, EVENT_TS, *view.features])
    base = base.sort_values([key, EVENT_TS], kind="stable").reset_index(drop=True)
    grouped = base.groupby(key, sort=False)
    out = base[[key, EVENT_TS]].copy()
    for col in view.features:
        for window in view.windows:
            rolled = grouped[col].rolling(window, min_periods=1).mean()
            out[f"{col}_mean_last{window}"] = rolled.reset_index(level=0, drop=True)
    return out.drop_duplicates([key, EVENT_TS], keep="last").reset_index(drop=True)


def build_view_frame(view: FeatureView, frame: pd.DataFrame, join_key: str) -> pd.DataFrame:
    """The offline table of one feature view: join key, event_timestamp, features."""
    builder = {"static": _static, "timeseries": _timeseries, "rolling": _rolling}[view.kind]
    out = builder(view, frame, join_key)
    for name in feature_names(view):
        if out[name].dtype != object:
            out[name] = out[name].astype("float64")
    return out.reset_index(drop=True)


def add_date_parts(frame: pd.DataFrame, spec: DateParts) -> pd.DataFrame:
    """Calendar parts of a timestamp in the dataset's own time zone (hour, dayofweek, ...)."""
    local = pd.to_datetime(frame[spec.column], utc=True).dt.tz_convert(spec.timezone)
    out = frame.copy()
    for part in spec.parts:
        values = local.dt.isocalendar().week if part == "weekofyear" else getattr(local.dt, part)
        out[f"{spec.column}_{part}"] = values.astype("float64")
    return out


def date_part_columns(cfg: Config) -> list[str]:
    spec = cfg.dataset.date_parts
    return [f"{spec.column}_{p}" for p in spec.parts] if spec else []


def entity_keys_in_main(cfg: Config, main_columns: list[str]) -> list[str]:
    """Join keys of the entities the event table carries."""
    return [e.join_key for e in cfg.features.entities if e.join_key in main_columns]


def entity_frame(cfg: Config, main: pd.DataFrame, event_ts: str) -> pd.DataFrame:
    """The entity dataframe for a point-in-time join: keys, event time, request fields, target."""
    keys = entity_keys_in_main(cfg, list(main.columns))
    cols = [*keys, *cfg.dataset.request_features, cfg.dataset.target]
    if cfg.dataset.date_parts:
        cols.append(cfg.dataset.date_parts.column)
    out = main[list(dict.fromkeys(cols))].copy()
    out[EVENT_TS] = pd.to_datetime(main[event_ts], utc=True)
    return out


def model_inputs(cfg: Config) -> list[str]:
    """Every column the model sees, in a fixed order: Feast features, request fields, date parts."""
    feast_cols = [c for v in cfg.features.views for c in qualified(v)]
    return [*feast_cols, *cfg.dataset.request_features, *date_part_columns(cfg)]


def assert_no_leakage(cfg: Config, inputs: list[str]) -> None:
    """Fail if a column known only after the event would reach the model as-is.

    Features of rolling views are exempt: they summarize outcomes stamped when they became known.
    """
    rolling = {v.name for v in cfg.features.views if v.kind == "rolling"}
    checked = set()
    for column in inputs:
        view, _, name = column.rpartition(SEP)
        if view not in rolling:
            checked.add(name)
    leaks = sorted(checked & set(cfg.dataset.forbidden_features))
    if leaks:
        raise ValueError(f"model inputs include forbidden columns {leaks}")
