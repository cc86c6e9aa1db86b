"""Cross-field rules of the config, checked at load with the offending key named, and the
defaults that follow from other keys (names, metric, request features and fields)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from mlrig.components.config.schema import (
    CANDIDATE_TASKS,
    CLASSIFICATION_METRICS,
    DEFAULT_CANDIDATES,
    DEFAULT_METRIC,
    REGRESSION_METRICS,
    ColumnType,
)

if TYPE_CHECKING:
    from mlrig.components.config.schema import Config


def fill_defaults(cfg: Config) -> None:
    """Defaults that depend on other keys."""
    ds = cfg.dataset
    cfg.features.service = cfg.features.service or f"{cfg.project}_features"
    cfg.stores.experiment = cfg.stores.experiment or cfg.project
    cfg.stores.feast_project = cfg.stores.feast_project or cfg.project.replace("-", "_")
    cfg.model.name = cfg.model.name or cfg.project
    cfg.model.primary_metric = cfg.model.primary_metric or DEFAULT_METRIC[ds.task]
    if not cfg.model.candidates:
        cfg.model.candidates = {name: {} for name in DEFAULT_CANDIDATES[ds.task]}  # type: ignore[misc]
    if cfg.model.promotion_min_delta is not None:
        cfg.model.gate.margin = cfg.model.promotion_min_delta
        cfg.model.promotion_min_delta = None
    if cfg.serving.timezone and ds.timezone == "UTC":
        ds.timezone = cfg.serving.timezone
    cfg.serving.timezone = None
    if ds.request_features is None:
        ds.request_features = [] if cfg.features.views else flat_features(cfg)


def flat_features(cfg: Config) -> list[str]:
    """A flat table's model inputs: every main-table column that is not the target, an entity
    key, the event time, forbidden, or an input of the target's derivation."""
    ds = cfg.dataset
    main = ds.tables[ds.main]
    keys = {e.join_key for e in cfg.features.entities}
    label_inputs = {c for d in main.derive if d.name == ds.target for c in d.inputs()}
    skip = {ds.target, ds.event_timestamp, *keys, *ds.forbidden_features, *label_inputs}
    return [c for c, t in main.all_columns().items() if c not in skip and t != "datetime"]


def main_keys(cfg: Config) -> list[str]:
    """Join keys of the entities the main table carries (what a request sends to look up)."""
    columns = cfg.dataset.tables[cfg.dataset.main].all_columns()
    return [e.join_key for e in cfg.features.entities if e.join_key in columns]


def needed_columns(cfg: Config) -> list[str]:
    """Main-table columns a request must let us compute: keys, event time, date-part column and
    request features."""
    ds = cfg.dataset
    out = [*main_keys(cfg)]
    if ds.event_timestamp:
        out.append(ds.event_timestamp)
    if ds.date_parts:
        out.append(ds.date_parts.column)
    out += ds.request_features or []
    return list(dict.fromkeys(out))


def _expand(cfg: Config, column: str, seen: set[str] | None = None) -> list[str]:
    """A derived concat/label column is computed from its inputs; other columns are sent."""
    main = cfg.dataset.tables[cfg.dataset.main]
    seen = seen or set()
    for spec in main.derive:
        if spec.name == column and spec.concat and column not in seen:
            seen.add(column)
            return [c for inp in spec.inputs() for c in _expand(cfg, inp, seen)]
    return [column]


def default_request_fields(cfg: Config) -> dict[str, ColumnType]:
    """The request schema that follows from the tables: needed columns, derived keys replaced by
    the columns they are derived from, each with its configured type."""
    types = cfg.dataset.tables[cfg.dataset.main].all_columns()
    fields = [c for col in needed_columns(cfg) for c in _expand(cfg, col)]
    return {c: types[c] for c in dict.fromkeys(fields)}


def _expand_all(cfg: Config) -> list[str]:
    return [c for col in needed_columns(cfg) for c in _expand(cfg, col)]


def request_fields(cfg: Config) -> dict[str, ColumnType]:
    return dict(cfg.serving.request_fields or default_request_fields(cfg))


def derivable(cfg: Config, column: str, given: set[str]) -> bool:
    """Whether a column is given or can be derived from given columns."""
    if column in given:
        return True
    main = cfg.dataset.tables[cfg.dataset.main]
    for spec in main.derive:
        if spec.name == column:
            return all(derivable(cfg, c, given) for c in spec.inputs())
    return False


def check(cfg: Config) -> None:
    """Raise ValueError naming the key of the first broken cross-field rule."""
    ds = cfg.dataset
    main = ds.tables[ds.main]
    columns = main.all_columns()
    metric = cfg.model.primary_metric
    allowed = CLASSIFICATION_METRICS if ds.task == "classification" else REGRESSION_METRICS
    if metric not in allowed:
        raise ValueError(
            f"model.primary_metric: '{metric}' does not fit task {ds.task} "
            f"(choose one of {sorted(allowed)})"
        )
    for name in cfg.model.candidates:
        if ds.task not in CANDIDATE_TASKS[name]:
            raise ValueError(f"model.candidates.{name}: not a {ds.task} model")
    if ds.target not in columns:
        raise ValueError(f"dataset.target: '{ds.target}' is not a column of table '{ds.main}'")
    if ds.positive_label is not None and ds.task != "classification":
        raise ValueError("dataset.positive_label: only classification has a positive label")
    if ds.event_timestamp and columns.get(ds.event_timestamp) != "datetime":
        raise ValueError(
            f"dataset.event_timestamp: '{ds.event_timestamp}' is not a datetime column of "
            f"table '{ds.main}'"
        )
    if ds.until is not None:
        if not ds.event_timestamp:
            raise ValueError("dataset.until: needs dataset.event_timestamp (events before when?)")
        try:
            datetime.fromisoformat(ds.until)
        except ValueError:
            raise ValueError(f"dataset.until: '{ds.until}' is not an ISO time") from None
    if ds.date_parts and columns.get(ds.date_parts.column) != "datetime":
        raise ValueError(
            f"dataset.date_parts.column: '{ds.date_parts.column}' is not a datetime column of "
            f"table '{ds.main}'"
        )
    for col in cfg.model.slices:
        if col not in columns:
            raise ValueError(f"model.slices: no column '{col}' in table '{ds.main}'")
        if columns[col] not in ("str", "bool", "int"):
            raise ValueError(f"model.slices: '{col}' is {columns[col]}, not categorical")
        if col not in needed_columns(cfg) and col not in _expand_all(cfg):
            raise ValueError(f"model.slices: '{col}' is not a request field, so rows lack it")
    for col in ds.request_features or []:
        if col not in columns:
            raise ValueError(f"dataset.request_features: no column '{col}' in table '{ds.main}'")
        if col == ds.target:
            raise ValueError(f"dataset.request_features: '{col}' is the target")
    _check_features(cfg, columns)
    if cfg.serving.request_fields:
        given = set(cfg.serving.request_fields)
        lacking = [c for c in needed_columns(cfg) if not derivable(cfg, c, given)]
        if lacking:
            raise ValueError(
                f"serving.request_fields: must contain (or derive) {lacking}, which the "
                "features, date parts and request features need"
            )


def _check_features(cfg: Config, main_columns: dict[str, ColumnType]) -> None:
    ds = cfg.dataset
    entities = {e.name: e for e in cfg.features.entities}
    for view in cfg.features.views:
        where = f"features.views.{view.name}"
        if view.table not in ds.tables:
            raise ValueError(f"{where}.table: no table '{view.table}'")
        table_columns = ds.tables[view.table].all_columns()
        for name in view.entities:
            if name not in entities:
                raise ValueError(f"{where}.entity: no entity '{name}'")
            key = entities[name].join_key
            if key not in table_columns:
                raise ValueError(f"{where}.entity: join key '{key}' is not in table '{view.table}'")
            if key not in main_columns:
                raise ValueError(
                    f"features.entities.{name}.join_key: '{key}' is not in the main table "
                    f"'{ds.main}', so the view cannot be joined to events"
                )
            if table_columns[key] != main_columns[key]:
                raise ValueError(
                    f"features.entities.{name}.join_key: '{key}' is {main_columns[key]} in "
                    f"'{ds.main}' but {table_columns[key]} in '{view.table}'"
                )
        if view.timestamp and table_columns.get(view.timestamp) != "datetime":
            raise ValueError(f"{where}.timestamp: '{view.timestamp}' is not a datetime column")
        for col in view.features:
            if col not in table_columns:
                raise ValueError(f"{where}.features: no column '{col}' in table '{view.table}'")
            spec = ds.tables[view.table].columns.get(col)
            if spec is not None and spec.text and view.kind not in ("static", "timeseries"):
                raise ValueError(
                    f"{where}.features: '{col}' is free text (text: true): a {view.kind} view "
                    "summarizes numbers; store the text in a static or timeseries view, or "
                    "drop text: true"
                )
        for agg in view.aggregations:
            if agg.column is None:
                continue
            if agg.column not in table_columns:
                raise ValueError(
                    f"{where}.aggregations: no column '{agg.column}' in table '{view.table}'"
                )
            if table_columns[agg.column] not in ("int", "float", "bool"):
                raise ValueError(f"{where}.aggregations: '{agg.column}' is not numeric")
        leaks = set(view.features) & set(ds.forbidden_features)
        if leaks and view.kind not in ("rolling", "aggregate"):
            raise ValueError(f"{where}.features: forbidden columns {sorted(leaks)}")
