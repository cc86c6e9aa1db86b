"""The typed mlrig config: one dataset, its features, stores, model and serving settings.

Every cross-field rule is checked here, at load, before any stage runs, with the key named.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlrig.components.config import reads

ColumnType = Literal["int", "float", "str", "bool", "datetime"]
Label = str | int | float | bool

# Metric names by task; multiclass uses macro averages under the same names.
CLASSIFICATION_METRICS = {"roc_auc", "accuracy", "precision", "recall", "f1", "log_loss"}
REGRESSION_METRICS = {"rmse", "mae", "r2"}
LOWER_IS_BETTER = {"rmse", "mae", "log_loss"}
DEFAULT_METRIC = {"classification": "roc_auc", "regression": "rmse"}
CANDIDATE_TASKS = {
    "logistic_regression": {"classification"},
    "ridge": {"regression"},
    "hist_gradient_boosting": {"classification", "regression"},
    "random_forest": {"classification", "regression"},
    "lightgbm": {"classification", "regression"},
}
CandidateName = Literal[
    "logistic_regression", "ridge", "hist_gradient_boosting", "random_forest", "lightgbm"
]
DEFAULT_CANDIDATES = {
    "classification": ["lightgbm", "logistic_regression", "random_forest"],
    "regression": ["lightgbm", "ridge", "random_forest"],
}
AGGREGATIONS = ("count", "sum", "mean", "min", "max")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnSpec(Strict):
    """What a column must look like; rows that break it are quarantined with a reason.

    type str is categorical (numbers stored as text, such as codes, stay text)."""

    type: ColumnType
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    allowed: list[str] | None = None
    missing: list[str] = Field(
        default_factory=list, description="text meaning no value here, e.g. ['unknown', '-']"
    )
    number_format: Literal["currency", "percent"] | None = Field(
        None,
        description="int/float written as text: currency ($1,234.50, 1.234,50 €, (12.00)) or "
        "percent (45% is read as 45)",
    )
    epoch: Literal["s", "ms", "us", "ns"] | None = Field(
        None,
        description="datetime written as a Unix time: a number of seconds (ms, us, ns) since "
        "1970-01-01 UTC, in the data and in requests",
    )
    day_first: bool | None = Field(
        None,
        description="datetime written as 05/01/2024: true reads the day first (5 January), "
        "false the month first (1 May); unset, each read judges from its own values (day first "
        "only where some first number is over 12), so a batch could read another way",
    )
    text: bool = Field(
        False,
        description="a str column of free text (a description, a review): the model reads its "
        "words and word pairs (TF-IDF, reduced to 16 topics) instead of taking it as a category",
    )

    @model_validator(mode="after")
    def _numbers_only(self) -> ColumnSpec:
        if self.number_format and self.type not in ("int", "float"):
            raise ValueError(f"number_format: only for int or float columns, not {self.type}")
        if self.epoch and self.type != "datetime":
            raise ValueError(f"epoch: only for datetime columns, not {self.type}")
        if self.day_first is not None and self.type != "datetime":
            raise ValueError(f"day_first: only for datetime columns, not {self.type}")
        if self.text and self.type != "str":
            raise ValueError(f"text: only for str columns, not {self.type}")
        return self


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


class Equals(Strict):
    column: str
    value: Label


DERIVATION_KINDS = ("add_minutes", "concat", "greater_than", "equals")


class Derivation(Strict):
    """A column computed from others, e.g. a route key or a label. equals: 1 where the column
    holds the value (a class such as 'yes'; true/1/1.0 alike), 0 elsewhere, null where null."""

    name: str
    add_minutes: AddMinutes | None = None
    concat: Concat | None = None
    greater_than: GreaterThan | None = None
    equals: Equals | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Derivation:
        kinds = [k for k in DERIVATION_KINDS if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(
                f"derivation '{self.name}' needs exactly one of {', '.join(DERIVATION_KINDS)}"
            )
        return self

    def inputs(self) -> list[str]:
        if self.add_minutes:
            return [self.add_minutes.to, *self.add_minutes.minutes]
        if self.concat:
            return list(self.concat.columns)
        if self.equals:
            return [self.equals.column]
        assert self.greater_than is not None
        return [self.greater_than.column]

    def output_type(self) -> ColumnType:
        if self.add_minutes:
            return "datetime"
        if self.concat:
            return "str"
        return "int"


class FileSource(Strict):
    kind: Literal["file"]
    path: str = Field(description="local path, or package://<package>/<path inside it>")
    format: Literal["csv", "parquet", "json", "jsonl", "auto"] = Field(
        "auto", description="auto: by suffix (.parquet, .json, .jsonl/.ndjson; else CSV)"
    )
    sep: Literal[",", ";", "\t", "|"] | None = Field(
        None, description="CSV field separator; null: sniffed from the file's first lines"
    )
    decimal: Literal[".", ","] = Field(".", description="CSV decimal mark (',' in 3,5)")
    encoding: str = Field(
        "utf-8", description="CSV text encoding, e.g. cp1252 for a Windows export"
    )


class SqlSource(Strict):
    kind: Literal["sql"]
    url: str = Field(description="SQLAlchemy URL; use ${VAR} for secrets")
    query: str


class HttpSource(Strict):
    kind: Literal["http"]
    url: str = Field(description="use ${VAR} for a token in the query string")
    format: Literal["csv", "json", "jsonl"] = Field(
        "json", description="json: records (records_path, next_path); jsonl: a record per line"
    )
    records_path: str | None = Field(None, description="dotted path to the list of records")
    headers: dict[str, str] = Field(
        default_factory=dict, description="request headers; use ${VAR} for credentials"
    )
    next_path: str | None = Field(
        None, description="dotted path to the next page's URL in each answer (paged JSON APIs)"
    )
    max_pages: int = Field(1000, ge=1, description="stop with an error past this many pages")
    max_bytes: int = Field(
        1 << 30, ge=1, description="stop with an error past this many bytes (all pages together)"
    )
    timeout_s: float = 30.0


SourceLocation = Annotated[FileSource | SqlSource | HttpSource, Field(discriminator="kind")]


class Table(Strict):
    """One input table: where it lives, its columns, and columns derived from them."""

    source: SourceLocation
    columns: dict[str, ColumnSpec]
    derive: list[Derivation] = Field(default_factory=list)
    left_out: list[str] = Field(
        default_factory=list,
        description="columns of the source that are not used (`mlrig init` lists those it left "
        "out: a constant, an id); a batch for `mlrig score` may hold them, and they are ignored",
    )

    def all_columns(self) -> dict[str, ColumnType]:
        """Configured plus derived columns with their types."""
        out: dict[str, ColumnType] = {n: c.type for n, c in self.columns.items()}
        out.update({d.name: d.output_type() for d in self.derive})
        return out


class DateParts(Strict):
    column: str
    timezone: str | None = Field(None, description="default: dataset.timezone")
    parts: list[Literal["year", "hour", "dayofweek", "month", "day", "dayofyear", "weekofyear"]]


class Dataset(Strict):
    tables: dict[str, Table]
    main: str = Field(description="the table whose rows are the events to predict")
    event_timestamp: str | None = Field(
        None,
        description="column of the main table; null: no event time (random holdout, shuffled CV)",
    )
    timezone: str = Field("UTC", description="zone of naive datetimes, in data and requests")
    target: str
    task: Literal["classification", "regression"]
    positive_label: Label | None = Field(
        None, description="binary classification: the class whose probability is reported"
    )
    request_features: list[str] | None = Field(
        None,
        description="main-table columns the caller sends as model inputs; default: none when "
        "there are feature views, else every column that is not the target, a key or forbidden",
    )
    date_parts: DateParts | None = None
    forbidden_features: list[str] = Field(
        default_factory=list, description="columns known only after the event; never model inputs"
    )
    sample_rows: int | None = Field(None, gt=0)
    until: str | None = Field(
        None,
        description="train only on events before this time (ISO; naive in `timezone`): "
        "backtests and `mlrig monitor replay`. Features still come point-in-time from all data",
    )
    max_rejected_share: float = Field(
        0.5, ge=0, le=1, description="stop at validate when more of a table's rows are rejected"
    )

    @field_validator("until", mode="before")
    @classmethod
    def _iso(cls, value: object) -> object:  # YAML reads 2013-07-01 as a date
        return value.isoformat() if isinstance(value, date | datetime) else value

    @model_validator(mode="after")
    def _main_exists(self) -> Dataset:
        if self.main not in self.tables:
            raise ValueError(f"main table '{self.main}' is not one of tables {sorted(self.tables)}")
        leaks = set(self.request_features or []) & set(self.forbidden_features)
        if leaks:
            raise ValueError(f"request_features lists forbidden columns {sorted(leaks)}")
        return self


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


class Stores(Strict):
    mlflow_tracking_uri: str = "sqlite:///mlflow.db"
    mlflow_artifact_root: str = "mlartifacts"
    experiment: str = ""
    feast_repo: str = "feature_repo"
    feast_project: str = ""
    feast_online_type: Literal["sqlite", "redis"] = "sqlite"
    feast_online_path: str = ".mlrig/feast/online.db"
    feast_redis: str = "localhost:6379"
    feast_registry: str = ".mlrig/feast/registry.db"
    feature_data_dir: str = ".mlrig/feature_data"
    prediction_log: str = Field(
        "",
        description="where served predictions are logged: empty for a SQLite file under the work "
        "folder (one machine), or a postgresql:// URL (many replicas; use ${VAR} for the password)",
    )

    @field_validator("prediction_log")
    @classmethod
    def _log_url(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgresql+psycopg2://")):
            raise ValueError(
                f"'{value.split('@')[-1]}' is neither empty (SQLite under the work folder) nor a "
                "postgresql:// URL"
            )
        return value


class Range(Strict):
    """A numeric search range: floats, or ints with int: true; log: true samples on a log scale."""

    low: float
    high: float
    log: bool = False
    int: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low < self.high:
            raise ValueError(f"range low {self.low} must be below high {self.high}")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self


SearchSpace = dict[str, list[float | int | str | bool] | Range]


class Tuning(Strict):
    """The search budget: trials and/or seconds (whichever ends first)."""

    trials: int = Field(20, ge=1, description="at most this many configurations")
    timeout_s: float | None = Field(None, gt=0, description="stop starting trials after this")
    prune: bool = Field(True, description="stop a trial early when its first folds are poor")


class Threshold(Strict):
    """Binary classification: how the decision threshold is chosen on out-of-fold predictions."""

    rule: Literal["fixed", "max_f1", "precision", "recall", "cost"] = "max_f1"
    value: float = Field(0.5, gt=0, lt=1, description="fixed: the threshold; precision/recall: "
                         "the target to reach")  # fmt: skip
    cost_fp: float = Field(1.0, gt=0, description="cost: price of a false positive")
    cost_fn: float = Field(1.0, gt=0, description="cost: price of a false negative")


class Gate(Strict):
    """When a challenger replaces the champion automatically."""

    margin: float = Field(0.0, ge=0, description="must beat the champion by more than this")
    min_metric: float | None = Field(None, description="never promote below (above for errors)")
    auto_promote: bool = Field(True, description="false: promotion only by mlrig model promote")


class Model(Strict):
    name: str = ""
    candidates: dict[CandidateName, SearchSpace] = Field(
        default_factory=dict, description="candidates and search spaces; {} uses the defaults"
    )
    tuning: Tuning = Field(default_factory=Tuning)
    threshold: Threshold = Field(default_factory=Threshold)
    gate: Gate = Field(default_factory=Gate)
    slices: list[str] = Field(
        default_factory=list, description="categorical main-table columns to report metrics by"
    )
    min_slice_rows: int = Field(30, ge=1, description="smaller slices are flagged")
    calibrate: Literal["none", "sigmoid"] = Field(
        "none", description="binary: sigmoid calibration fitted on out-of-fold predictions"
    )
    refit_on_all: bool = Field(
        True, description="release a model refitted on train + holdout after evaluation"
    )
    holdout_fraction: float = Field(0.2, gt=0, lt=0.9)
    cv_folds: int = Field(3, ge=2, le=20)
    cv_holdout_margin: float = Field(
        0.05,
        ge=0,
        description="flag the run when CV and holdout differ by more than this (for rmse and "
        "mae: this fraction of the CV value)",
    )
    tuning_sample_rows: int = Field(50_000, gt=100)
    primary_metric: str | None = Field(None, description="default: roc_auc or rmse by task")
    promotion_min_delta: float | None = Field(None, description="deprecated: use gate.margin")
    random_state: int = 42


class Serving(Strict):
    host: str = "127.0.0.1"
    port: int = Field(3000, ge=1, le=65535)
    request_fields: dict[str, ColumnType] | None = Field(
        None, description="default: derived from the tables (keys, event time, request features)"
    )
    timezone: str | None = Field(None, description="deprecated: use dataset.timezone")
    log_predictions: bool = Field(True, description="commit every prediction to the log")
    reload_seconds: float = Field(
        30.0, ge=0, description="how often the service checks the champion alias (0: never)"
    )
    max_body_bytes: int = Field(
        2_097_152, ge=1024, description="larger request bodies are answered 413, unread"
    )
    max_batch_rows: int = Field(1000, ge=1, description="rows per /predict_batch request")
    workers: int | None = Field(
        None, ge=1, description="worker processes (default: the CPUs given, cgroup limits included)"
    )


class Monitor(Strict):
    """When `mlrig monitor check` says retrain."""

    max_drifted_features: int = Field(2, ge=0, description="retrain when more features drift")
    prediction_psi: float = Field(0.2, gt=0, description="retrain when predictions drift more")
    metric_tolerance: float = Field(
        0.05, ge=0, description="retrain when a labelled window is worse than evaluation by more"
    )
    window: Literal["D", "W", "M"] = Field("W", description="performance windows: day/week/month")
    min_window_rows: int = Field(50, ge=1, description="smaller windows are reported, not judged")
    drift_rows: int = Field(
        50_000, ge=100, description="drift compares the latest this many served predictions"
    )
    min_days_served: float = Field(
        0,
        ge=0,
        description="retrain only after the champion has answered this many days of requests "
        "(event time) since it began answering or since the last retrain started; before that "
        "the check reports, not retrains (a drift the training data already held, or a retrain "
        "that lost the gate, would otherwise retrain again every day)",
    )
    log_retention_days: int | None = Field(
        90,
        ge=1,
        description="`mlrig monitor check` and `prune` delete predictions logged longer ago (the "
        "log grows about 1 KB a prediction); null keeps every prediction",
    )


class Config(Strict):
    project: str
    workdir: str = ".mlrig"
    profile: str = "local"
    dataset: Dataset
    features: Features = Field(default_factory=Features)
    stores: Stores = Field(default_factory=Stores)
    model: Model = Field(default_factory=Model)
    serving: Serving = Field(default_factory=Serving)
    monitor: Monitor = Field(default_factory=Monitor)
    profiles: dict[str, dict] = Field(default_factory=dict)

    # its cross-field defaults and checks run once, at load (loader.py, checks.py)

    # every way a section is read is recorded (reads.py): attributes, dumps, iteration
    def __getattribute__(self, name: str) -> Any:
        if name in SECTIONS:
            reads.note((name,))
        return super().__getattribute__(name)

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        reads.note(_dumped(kwargs.get("include")))
        return super().model_dump(**kwargs)

    def model_dump_json(self, **kwargs: Any) -> str:
        reads.note(_dumped(kwargs.get("include")))
        return super().model_dump_json(**kwargs)

    def __iter__(self) -> Any:
        reads.note(SECTIONS)
        return super().__iter__()


SECTIONS = frozenset(Config.model_fields)


def _dumped(include: Any) -> Any:
    return SECTIONS if include is None else [name for name in include if name in SECTIONS]
