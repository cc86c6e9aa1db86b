"""Strict request schema, built from a model contract's request fields."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    create_model,
)

from mlrig.components.contract.contract import RequestField
from mlrig.components.contract.timeutil import EPOCH_UNITS, YEAR, YEARS


def _integral(value: int | float) -> int:
    """JSON has one number type: 4000.0 is the integer 4000, 4000.5 is not an integer."""
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("Input should be a valid integer")
    return int(value)


_YEAR_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _iso_time(value: Any) -> datetime:
    """Times are ISO 8601 strings; pydantic alone would also take 0 or "0" as Unix time."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("Input should be an ISO 8601 date-time string")
    if _YEAR_MONTH.fullmatch(value.strip()):  # 2017-03: the month's first moment
        return datetime.fromisoformat(value.strip() + "-01")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            "Input should be an ISO 8601 date-time, e.g. 2013-12-30T08:15:00 or "
            "2013-12-30T08:15:00-05:00"
        ) from None


def _year() -> Any:
    """A time field of a column of years: a whole year (2017) or ISO 8601 text."""

    def read(value: Any) -> datetime:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if value != int(value) or not YEARS[0] <= value <= YEARS[1]:
                raise ValueError(f"Input should be a whole year within {YEARS[0]}-{YEARS[1]}")
            return datetime(int(value), 1, 1)
        if isinstance(value, str):
            return _iso_time(value)
        raise ValueError("Input should be a year (a number) or ISO 8601 text")

    return Annotated[datetime, BeforeValidator(read)]


def _unix_time(unit: str) -> Any:
    """A time field of an epoch column: a Unix time in `unit` (a JSON number) or ISO 8601 text;
    for years, a whole year (its first moment, naive: the dataset's zone reads it)."""
    if unit == YEAR:
        return _year()
    scale = EPOCH_UNITS[unit] / 1e9

    def read(value: Any) -> datetime:
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return datetime.fromtimestamp(value * scale, tz=UTC)
            except (OverflowError, OSError, ValueError):
                raise ValueError(f"Input should be a Unix time in {unit} (years 1-9999)") from None
        if isinstance(value, str):
            return _iso_time(value)
        raise ValueError(f"Input should be a Unix time in {unit} (a number) or ISO 8601 text")

    return Annotated[datetime, BeforeValidator(read)]


TEXT_CHARACTERS = 20_000  # a free-text field (a description, a review); a category's: 256
_TEXT = Annotated[StrictStr, Field(max_length=TEXT_CHARACTERS)]
_TYPES: dict[str, Any] = {
    "str": Annotated[StrictStr, Field(min_length=1, max_length=256)],
    "int": Annotated[StrictInt | StrictFloat, AfterValidator(_integral)],
    "float": Annotated[float, Field(allow_inf_nan=False)],
    "bool": StrictBool,
    "datetime": Annotated[datetime, BeforeValidator(_iso_time)],
}


class _StrictBase(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


EXPLAIN = "explain"  # a request's own switch: answer with each input's contribution


def request_model(fields: dict[str, Any]) -> type[BaseModel]:
    """A pydantic model: no unknown fields, no NaN/inf, no type coercion from numbers to strings.

    fields: name -> RequestField (or its stored form: a dict, or a bare type name). A field
    that is not required (nullable in training) may be null or absent."""
    spec: dict[str, Any] = {}
    for name, value in fields.items():
        field = RequestField.of(value)
        kind = field.type
        base = _unix_time(field.epoch) if kind == "datetime" and field.epoch else _TYPES[kind]
        if kind == "str" and field.text:
            base = _TEXT
        kind_type = base if field.required else base | None
        default = ... if field.required else None
        if _reserved(name):  # pydantic takes '_x' as private and 'json' as its method: an alias
            inner = _inner_name(name, fields)
            spec[inner] = (kind_type, Field(default, alias=name))
        else:
            spec[name] = (kind_type, default)
    if EXPLAIN not in fields:  # a table with a column of that name cannot ask for explanations
        spec[EXPLAIN] = (StrictBool, False)
    return create_model("PredictRequest", __base__=_StrictBase, **spec)


def renamed(model: type[BaseModel]) -> dict[str, str]:
    """The model's fields whose Python name is not the column's (inner name -> column)."""
    return {n: f.alias for n, f in model.model_fields.items() if f.alias and f.alias != n}


def _reserved(name: str) -> bool:
    return name.startswith("_") or name.startswith("model_") or hasattr(BaseModel, name)


def _inner_name(name: str, taken: dict[str, Any]) -> str:
    inner = "field_" + "".join(c if c.isalnum() else "_" for c in name).strip("_")
    while inner in taken or _reserved(inner):
        inner += "_"
    return inner


def batch_model(row: type[BaseModel], max_rows: int) -> type[BaseModel]:
    """{"rows": [request, ...]}: 1 to max_rows requests of the single-row schema."""
    rows = Annotated[list[row], Field(min_length=1, max_length=max_rows)]  # type: ignore[valid-type]
    return create_model("PredictBatchRequest", __base__=_StrictBase, rows=(rows, ...))
