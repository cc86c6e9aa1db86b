"""The typed mlrig config: one dataset, its features, stores, model and serving settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ColumnType = Literal["int", "float", "str", "bool", "datetime"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnSpec(Strict):
    """What a column must look like; rows that break it are quarantined with a reason."""

    type: ColumnType
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    allowed: list[str] | None = None


class AddMinutes(Strict):
    to: str
    minutes: list[str] = Field(default_factory=list)
    constant: float = 0.0


class Concat(Strict):
    columns: list[str] = Field(min_length=2)
    sep: str = "-"


class GreaterThan(Strict):
    column: str
    value: float


class Derivation(Strict):
    """A column computed from others, e.g. a route key or a label."""

    name: str
    add_minutes: AddMinutes | None = None
    concat: Concat | None = None
    greater_than: GreaterThan | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Derivation:
        kinds = [k for k in ("add_minutes", "concat", "greater_than") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(
                f"derivation '{self.name}' needs exactly one of add_minutes, concat, greater_than"
            )
        return self

    def inputs(self) -> list[str]:
        if self.add_minutes:
            return [self.add_minutes.to, *self.add_minutes.minutes]
        if self.concat:
            return list(self.concat.columns)
        assert self.greater_than is not None
        return [self.greater_than.column]


class FileSource(Strict):
    kind: Literal["file"]
    path: str = Field(description="local path, or package://<package>/<path inside it>")
    format: Literal["csv", "parquet", "auto"] = "auto"


class SqlSource(Strict):
    kind: Literal["sql"]
    url: str = Field(description="SQLAlchemy URL; use ${VAR} for secrets")
    query: str


class HttpSource(Strict):
    kind: Literal["http"]
    url: str
    format: Literal["csv", "json"] = "json"
    records_path: str | None = Field(None, description="dotted path to the list of records")
    timeout_s: float = 30.0


SourceLocation = Annotated[FileSource | SqlSource | HttpSource, Field(discriminator="kind")]


class Table(Strict):
    """One input table: where it lives, its columns, and columns derived from them."""

    source: SourceLocation
    columns: dict[str, ColumnSpec]
    derive: list[Derivation] = Field(default_factory=list)


class DateParts(Strict):
    column: str
    timezone: str = "UTC"
    parts: list[Literal["hour", "dayofweek", "month", "day", "dayofyear", "weekofyear"]]


class Dataset(Strict):
    tables: dict[str, Table]
    main: str = Field(description="the table whose rows are the events to predict")
    event_timestamp: str | None = Field(
        None, description="column of the main table; null means the ingestion time is used"
    )
    target: str
    task: Literal["classification", "regression"]
    request_features: list[str] = Field(
        default_factory=list, description="main-table columns the caller sends at request time"
    )
    date_parts: DateParts | None = None
    forbidden_features: list[str] = Field(
        default_factory=list, description="columns known only after the event; never model inputs"
    )
    sample_rows: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _main_exists(self) -> Dataset:
        if self.main not in self.tables:
            raise ValueError(f"main table '{self.main}' is not one of tables {sorted(self.tables)}")
        leaks = set(self.request_features) & set(self.forbidden_features)
        if leaks:
            raise ValueError(f"request_features lists forbidden columns {sorted(leaks)}")
        return self


class Entity(Strict):
    name: str
    join_key: str
    description: str = ""


class FeatureView(Strict):
    """static: latest row per key, never expires. timeseries: rows by their own timestamp.
    rolling: means over the last N outcomes per key, stamped when each outcome became known."""

    name: str
    kind: Literal["static", "timeseries", "rolling"]
    table: str
    entity: str
    features: list[str] = Field(default_factory=list)
    timestamp: str | None = None
    ttl_hours: float = 0
    windows: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shape(self) -> FeatureView:
        if self.kind != "static" and not self.timestamp:
            raise ValueError(f"feature view '{self.name}' of kind {self.kind} needs a timestamp")
        if self.kind == "rolling" and not self.windows:
            raise ValueError(f"rolling feature view '{self.name}' needs windows")
        if not self.features:
            raise ValueError(f"feature view '{self.name}' has no features")
        return self


class Features(Strict):
    entities: list[Entity]
    views: list[FeatureView]
    service: str


class Stores(Strict):
    mlflow_tracking_uri: str = "sqlite:///mlflow.db"
    mlflow_artifact_root: str = "mlartifacts"
    experiment: str
    feast_repo: str = "feature_repo"
    feast_project: str
    feast_online_type: Literal["sqlite", "redis"] = "sqlite"
    feast_online_path: str = ".mlrig/feast/online.db"
    feast_redis: str = "localhost:6379"
    feast_registry: str = ".mlrig/feast/registry.db"
    feature_data_dir: str = ".mlrig/feature_data"


class Model(Strict):
    name: str
    candidates: dict[
        Literal["logistic_regression", "hist_gradient_boosting", "random_forest", "ridge"],
        dict[str, list[float | int | str]],
    ]
    holdout_fraction: float = Field(0.2, gt=0, lt=0.9)
    cv_folds: int = Field(3, ge=2, le=20)
    tuning_sample_rows: int = Field(50_000, gt=100)
    primary_metric: str = "roc_auc"
    promotion_min_delta: float = 0.0
    random_state: int = 42


class Serving(Strict):
    host: str = "127.0.0.1"
    port: int = Field(3000, ge=1, le=65535)
    request_fields: dict[str, ColumnType]
    timezone: str = Field("UTC", description="zone of naive datetimes in requests")


class Config(Strict):
    project: str
    workdir: str = ".mlrig"
    profile: str = "local"
    dataset: Dataset
    features: Features
    stores: Stores
    model: Model
    serving: Serving
    profiles: dict[str, dict] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> Config:
        entities = {e.name: e for e in self.features.entities}
        for view in self.features.views:
            if view.table not in self.dataset.tables:
                raise ValueError(f"features.views.{view.name}.table: no table '{view.table}'")
            if view.entity not in entities:
                raise ValueError(f"features.views.{view.name}.entity: no entity '{view.entity}'")
            leaks = set(view.features) & set(self.dataset.forbidden_features)
            if leaks and view.kind != "rolling":
                raise ValueError(
                    f"features.views.{view.name}.features: forbidden columns {sorted(leaks)}"
                )
        return self
