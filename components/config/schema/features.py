"""The `features` section: entities and the feature views over the tables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mlrig.components.config.schema.base import (
    Strict,
)


class Entity(Strict):
    name: str
    join_key: str
    description: str = ""


class Aggregation(Strict):
    """Aggregates of one column of an event table, over time windows and/or all history."""

    column: str | None = Field(None, description="null: count events only")
    functions: list[Literal["count", "sum", "mean", "min", "max"]] = Field(min_length=1)
    window_days: list[float] = Field(
        default_factory=list, description="trailing windows; empty means all history"
    )
    lifetime: bool = Field(True, description="also aggregate over all history")


class FeatureView(Strict):
    """static: latest row per key, never expires. timeseries: rows by their own timestamp.
    rolling: means over the last N outcomes per key, stamped when each outcome became known.
    aggregate: count/sum/mean/min/max over time windows, and time since the first and last
    event, point-in-time correct (each event counts only strictly after it happened)."""

    name: str
    kind: Literal["static", "timeseries", "rolling", "aggregate"]
    table: str
    entity: str | list[str] = Field(description="entity name, or a list for a composite key")
    features: list[str] = Field(default_factory=list)
    timestamp: str | None = None
    ttl_hours: float = 0
    windows: list[int] = Field(default_factory=list)
    aggregations: list[Aggregation] = Field(default_factory=list)
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
    entities: list[Entity] = Field(default_factory=list)
    views: list[FeatureView] = Field(default_factory=list)
    service: str = Field("", description="feature service name; default: <project>_features")
