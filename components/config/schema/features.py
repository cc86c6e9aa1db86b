"""The `features` section: entities and the feature views over the tables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mlrig.components.config.schema.base import (
    Strict,
)


class Entity(Strict):
    """What feature views are keyed by: a customer, a plane, a store."""

    name: str = Field(description="the entity's name, as views refer to it")
    join_key: str = Field(
        description="the column that identifies it, in the main table and the views' tables"
    )
    description: str = Field("", description="what the entity is (shown by Feast)")


class Aggregation(Strict):
    """Aggregates of one column of an event table, over time windows and/or all history."""

    column: str | None = Field(None, description="null: count events only")
    functions: list[Literal["count", "sum", "mean", "min", "max"]] = Field(
        min_length=1, description="count, sum, mean, min or max"
    )
    window_days: list[float] = Field(
        default_factory=list, description="trailing windows; empty means all history"
    )
    lifetime: bool = Field(True, description="also aggregate over all history")


class FeatureView(Strict):
    """static: latest row per key, never expires. timeseries: rows by their own timestamp.
    rolling: means over the last N outcomes per key, stamped when each outcome became known.
    aggregate: count/sum/mean/min/max over time windows, and time since the first and last
    event, point-in-time correct (each event counts only strictly after it happened)."""

    name: str = Field(description="the view's name: its inputs are named <view>__<feature>")
    kind: Literal["static", "timeseries", "rolling", "aggregate"] = Field(
        description="static (no time), timeseries (the latest row before the time), rolling "
        "(means of the last N rows) or aggregate (windows over events)"
    )
    table: str = Field(description="the table the view reads")
    entity: str | list[str] = Field(description="entity name, or a list for a composite key")
    features: list[str] = Field(
        default_factory=list,
        description="the table's columns the view serves (static, timeseries, rolling)",
    )
    timestamp: str | None = Field(
        None, description="the table's time column (every kind but static)"
    )
    ttl_hours: float = Field(
        0,
        description="how long a value stays valid after its time (0: for ever); older values are "
        "missing, offline and online alike",
    )
    windows: list[int] = Field(
        default_factory=list, description="rolling views: the numbers of earlier rows averaged"
    )
    aggregations: list[Aggregation] = Field(
        default_factory=list, description="aggregate views: the functions over columns and windows"
    )
    recency: bool = Field(False, description="aggregate: days since the first and last event")

    @property
    def entities(self) -> list[str]:
        return [self.entity] if isinstance(self.entity, str) else list(self.entity)

    @model_validator(mode="after")
    def _shape(self) -> FeatureView:
        where = f"features.views.{self.name}"
        if self.kind != "static" and not self.timestamp:
            raise ValueError(f"{where}.timestamp: kind {self.kind} needs a timestamp")
        if self.kind == "rolling" and not self.windows:
            raise ValueError(f"{where}.windows: a rolling view needs windows")
        if self.kind == "aggregate":
            if not self.aggregations and not self.recency:
                raise ValueError(f"{where}.aggregations: an aggregate view needs aggregations")
            for agg in self.aggregations:
                if agg.column is None and set(agg.functions) != {"count"}:
                    raise ValueError(f"{where}.aggregations: only count works without a column")
        elif not self.features:
            raise ValueError(f"{where}.features: the view has no features")
        return self


class Features(Strict):
    """The entities and the feature views joined to each row as of its time (Feast)."""

    entities: list[Entity] = Field(
        default_factory=list, description="the entities feature views are keyed by"
    )
    views: list[FeatureView] = Field(
        default_factory=list,
        description="the feature views: columns of other tables joined as of each row's time",
    )
    service: str = Field("", description="feature service name; default: <project>_features")
