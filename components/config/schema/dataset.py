"""The `dataset` section: tables, their columns, sources and derivations, the target and
the event time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from mlrig.components.config.schema.base import (
    ColumnType,
    Label,
    Strict,
)


class ColumnSpec(Strict):
    """What a column must look like; rows that break it are quarantined with a reason.

    type str is categorical (numbers stored as text, such as codes, stay text)."""

    type: ColumnType = Field(description="int, float, str, bool or datetime")
    nullable: bool = Field(
        True, description="whether a row may lack a value (false: such rows are kept aside)"
    )
    min: float | None = Field(None, description="the smallest value accepted")
    max: float | None = Field(None, description="the largest value accepted")
    allowed: list[str] | None = Field(None, description="the only values accepted (a text column)")
    missing: list[str] = Field(
        default_factory=list, description="text meaning no value here, e.g. ['unknown', '-']"
    )
    number_format: Literal["currency", "percent"] | None = Field(
        None,
        description="int/float written as text: currency ($1,234.50, 1.234,50 €, (12.00)) or "
        "percent (45% is read as 45)",
    )
    epoch: Literal["s", "ms", "us", "ns", "year"] | None = Field(
        None,
        description="datetime written as a number, in the data and in requests: a Unix time in "
        "seconds (ms, us, ns) since 1970-01-01 UTC, or a whole year (year: 2017 is its first "
        "moment in dataset.timezone)",
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
    """A time plus minutes taken from other columns (a scheduled departure plus its delay)."""

    to: str = Field(description="the datetime column to add to")
    minutes: list[str] = Field(
        default_factory=list, description="the columns whose values (minutes) are added"
    )
    constant: float = Field(0.0, description="minutes added besides")


class Concat(Strict):
    """Text columns joined with a separator (origin and dest into a route)."""

    columns: list[str] = Field(min_length=2, description="the columns to join, in order")
    sep: str = Field("-", description="the separator between them")


class GreaterThan(Strict):
    """1 where a numeric column exceeds a value, else 0 (a label from an amount)."""

    column: str = Field(description="the numeric column compared")
    value: float = Field(description="the value it must exceed")


class Equals(Strict):
    """1 where a column equals a value, else 0 (a yes/no label as 1/0)."""

    column: str = Field(description="the column compared")
    value: Label = Field(description="the value it must equal")


DERIVATION_KINDS = ("add_minutes", "concat", "greater_than", "equals")


class Derivation(Strict):
    """A column computed from others, e.g. a route key or a label. equals: 1 where the column
    holds the value (a class such as 'yes'; true/1/1.0 alike), 0 elsewhere, null where null."""

    name: str = Field(description="the derived column's name")
    add_minutes: AddMinutes | None = Field(
        None, description="a time plus a number of minutes from other columns"
    )
    concat: Concat | None = Field(None, description="text columns joined with a separator")
    greater_than: GreaterThan | None = Field(
        None, description="1 where a column is above a value, else 0"
    )
    equals: Equals | None = Field(None, description="1 where a column equals a value, else 0")

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
    """A CSV, parquet or JSON file, or a folder of parts of one format."""

    kind: Literal["file"] = Field(
        description="`file`: a CSV, parquet or JSON file, or a folder of parts"
    )
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
    """The rows a SQL query returns (any SQLAlchemy URL whose driver is installed)."""

    kind: Literal["sql"] = Field(description="`sql`: the rows a query returns")
    url: str = Field(description="SQLAlchemy URL; use ${VAR} for secrets")
    query: str = Field(description="the SELECT to run (its columns are the table's)")


class HttpSource(Strict):
    """JSON records or CSV answered by an HTTP API, page after page."""

    kind: Literal["http"] = Field(description="`http`: JSON records or CSV answered by a URL")
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
    timeout_s: float = Field(30.0, description="seconds to wait for each answer")


SourceLocation = Annotated[FileSource | SqlSource | HttpSource, Field(discriminator="kind")]


class Table(Strict):
    """One input table: where it lives, its columns, and columns derived from them."""

    source: SourceLocation = Field(
        description="where the table is read from: a file or folder, a SQL query, or an HTTP API"
    )
    columns: dict[str, ColumnSpec] = Field(
        description="each column's type and rules; rows that break them are kept aside with "
        "the reason"
    )
    derive: list[Derivation] = Field(
        default_factory=list,
        description="columns computed from others when the table is read (in training, batches "
        "and requests alike)",
    )
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
    """Parts of a time column (hour, day of week, ...) given to the model as inputs."""

    column: str = Field(description="the datetime column the parts are taken from")
    timezone: str | None = Field(None, description="default: dataset.timezone")
    parts: list[Literal["year", "hour", "dayofweek", "month", "day", "dayofyear", "weekofyear"]] = (
        Field(description="which parts: year, hour, dayofweek, month, day, dayofyear, weekofyear")
    )


class Dataset(Strict):
    """The tables, which one holds the events to predict, the target and the event time."""

    tables: dict[str, Table] = Field(
        description="the tables by name: the main table and those feature views read"
    )
    main: str = Field(description="the table whose rows are the events to predict")
    event_timestamp: str | None = Field(
        None,
        description="column of the main table; null: no event time (random holdout, shuffled CV)",
    )
    timezone: str = Field("UTC", description="zone of naive datetimes, in data and requests")
    target: str = Field(description="the column to predict, in the main table")
    task: Literal["classification", "regression"] = Field(
        description="classification (binary or multiclass) or regression"
    )
    positive_label: Label | None = Field(
        None, description="binary classification: the class whose probability is reported"
    )
    request_features: list[str] | None = Field(
        None,
        description="main-table columns the caller sends as model inputs; default: none when "
        "there are feature views, else every column that is not the target, a key or forbidden",
    )
    date_parts: DateParts | None = Field(
        None, description="parts of a time column given to the model as inputs"
    )
    forbidden_features: list[str] = Field(
        default_factory=list, description="columns known only after the event; never model inputs"
    )
    sample_rows: int | None = Field(
        None, gt=0, description="train on a seeded sample of this many rows (mlrig run --sample)"
    )
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
