"""The one assemble step for a single request, without building DataFrames.

assemble() (assemble.py) works on whole columns: right for training and batches, but a one-row
request pays pandas' per-call cost dozens of times (about 10 ms). RowAssembler applies the same
rules to one request's values: times by the rule of timeutil, derived columns, typed keys, the
online features of the keys, zero-if-missing, date parts, recency and the model's column types.

It is the same step, not a second one: a value that the scalar rules below do not cover exactly
(a time that is not ISO text or a datetime, a derived input of an unusual type, a source without
fetch_one) raises Fallback inside, and that request goes through assemble() itself. The tests
(tests/components/contract/test_assemble_one.py) compare both paths on tables of every shape the
platform takes: flights, transactions with int keys, no event time, nulls, bad times.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.config.schema import Derivation
from mlrig.components.contract.assemble import DAY_SECONDS, FeatureSource, _text, assemble
from mlrig.components.contract.contract import Contract, label_key
from mlrig.components.contract.timeutil import YEAR, _aware, from_epoch, from_years
from mlrig.components.runtime.catalog import EVENT_TS

NAN = float("nan")
NAT = pd.NaT
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
# ISO 8601 as pandas reads it both ways (pd.Timestamp and to_datetime(format="ISO8601"))
_ISO = re.compile(
    r"\d{4}-\d\d(-\d\d([T ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?)?\s*(Z|[+-]\d\d(:?\d\d)?)?)?", re.I
)


class Fallback(Exception):
    """A value the scalar rules do not cover: assemble() takes this request."""


@dataclass
class OneRow:
    inputs: dict[str, Any]  # the model's inputs in contract order: str or NaN, or float
    rows: dict[str, Any]  # the prepared request: typed keys, UTC times, derived columns
    missing: dict[str, bool]  # stored feature -> the store had no value (or it expired)
    ages: dict[str, float | None] = field(default_factory=dict)  # view -> seconds old

    @classmethod
    def of(cls, built: Any) -> OneRow:
        """The first row of assemble()'s answer."""
        return cls(
            inputs=built.frame.iloc[0].to_dict(),
            rows=built.rows.iloc[0].to_dict(),
            missing={str(c): bool(v) for c, v in built.missing.iloc[0].items()},
        )


def _number(value: Any) -> float:
    """pd.to_numeric(errors="coerce") of one JSON-like value."""
    if value is None:
        return NAN
    if isinstance(value, bool | np.bool_):
        raise Fallback("a boolean where a number goes")
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    raise Fallback(f"a {type(value).__name__} where a number goes")


def _utc(value: Any, tz: str, epoch: str | None = None) -> pd.Timestamp:
    """timeutil.to_utc of one value (NaT outside 1677-2262 or not a time; to the microsecond)."""
    if is_missing(value):
        return NAT
    if epoch and isinstance(value, int | float) and not isinstance(value, bool):
        numbers = pd.Series([value])
        read = from_years(numbers, tz) if epoch == YEAR else from_epoch(numbers, epoch)
        return read.dt.floor("us").iloc[0]
    if isinstance(value, str):
        if not _ISO.fullmatch(value.strip()):
            raise Fallback("a time that is not ISO 8601 text")
        aware = _aware(value)
    elif isinstance(value, datetime):
        aware = value.tzinfo is not None
    else:
        raise Fallback(f"a {type(value).__name__} where a time goes")
    try:
        stamp = pd.Timestamp(value)
        if not aware:
            stamp = stamp.tz_localize(tz, nonexistent="shift_forward", ambiguous=False)
        return _to_microsecond(stamp.tz_convert("UTC").as_unit("ns"))
    except (ValueError, OverflowError):  # OutOfBoundsDatetime is a ValueError
        return NAT


def _to_microsecond(stamp: pd.Timestamp) -> pd.Timestamp:
    """floor("us") of one time: its nanoseconds dropped (floor parses its frequency on every call:
    24 us, a twentieth of a whole request)."""
    return stamp if stamp.nanosecond == 0 else stamp.replace(nanosecond=0)


class RowAssembler:
    """assemble() for one request, compiled once from a contract."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.times = {
            n: s.epoch for n, s in contract.request_fields.items() if s.type == "datetime"
        }
        self.derive = [Derivation.model_validate(d) for d in contract.derivations]
        self.cats = set(contract.categorical)
        fs = contract.features
        self.views = fs is not None and bool(fs.views)
        self.zeros = list(fs.zero_if_missing) if fs else []
        self.recency = dict(fs.recency) if fs else {}

    def one(
        self, request: dict[str, Any], source: FeatureSource, now: datetime | None = None
    ) -> OneRow:
        """The model inputs of one request, exactly as assemble() gives them."""
        try:
            return self._one(request, source, now)
        except Fallback:
            return OneRow.of(assemble(self.contract, pd.DataFrame([request]), source, now))

    # --- prepare -------------------------------------------------------------------------------
    def prepare(self, request: dict[str, Any], now: datetime | None) -> dict[str, Any]:
        c = self.contract
        row = dict(request)
        for name, epoch in self.times.items():
            if name in row:
                row[name] = _utc(row[name], c.timezone, epoch)
        for spec in self.derive:
            if spec.name in row or any(col not in row for col in spec.inputs()):
                continue
            row[spec.name] = self._derived(row, spec)
        if c.event_time and c.event_time in row:
            event = row[c.event_time]
            if not (event is NAT or isinstance(event, pd.Timestamp) and event.tzinfo):
                raise Fallback("an event time that is not a typed time")
            row[EVENT_TS] = event
        elif any(k in row for k in ("_ingested_at", EVENT_TS)):
            raise Fallback("a stamped row")
        else:
            row[EVENT_TS] = pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC")
        for key, kind in c.entity_keys.items():
            if key in row:
                row[key] = self._key(row[key], kind)
        return row

    def _derived(self, row: dict[str, Any], spec: Derivation) -> Any:
        if spec.add_minutes:
            am = spec.add_minutes
            start = row[am.to]
            if not (start is NAT or isinstance(start, pd.Timestamp)):
                raise Fallback("add_minutes to a value that is not a typed time")
            minutes = am.constant + sum(_number(row[col]) for col in am.minutes)
            if start is NAT or math.isnan(minutes):
                return NAT
            return start + pd.to_timedelta(minutes, unit="min")
        if spec.concat:
            parts = []
            for col in spec.concat.columns:
                value = row[col]
                if is_missing(value):
                    return None
                if isinstance(value, bool) or not isinstance(value, str | int):
                    raise Fallback("concat of a value that is not text or an integer")
                parts.append(str(value))
            return spec.concat.sep.join(parts)
        if spec.equals:
            value = row[spec.equals.column]
            if is_missing(value):
                return NAN
            return float(label_key(value) == label_key(spec.equals.value))
        assert spec.greater_than is not None
        value = _number(row[spec.greater_than.column])
        return NAN if math.isnan(value) else float(value > spec.greater_than.value)

    @staticmethod
    def _key(value: Any, kind: str) -> Any:
        if kind == "int":
            number = _number(value)
            return None if math.isnan(number) else int(round(number))
        if is_missing(value):
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise Fallback("a key that is not text or a number")
        return _text(value)

    # --- assemble ------------------------------------------------------------------------------
    def _one(self, request: dict[str, Any], source: FeatureSource, now: datetime | None) -> OneRow:
        c = self.contract
        row = self.prepare(request, now)
        combined = dict(row)
        stored: dict[str, Any] = {}
        ages: dict[str, float | None] = {}
        if self.views:
            assert c.features is not None
            fetch_one = getattr(source, "fetch_one_aged", None)
            if fetch_one is None or any(k not in row for k in c.entity_keys):
                raise Fallback("a source without single-row reads, or a row without its keys")
            keys = {k: row[k] for k in c.entity_keys}
            if all(v is not None for v in keys.values()):  # no full key: no features
                stored, ages = fetch_one(c.features, keys, row.get(EVENT_TS))
            combined.update(stored)
        for name in self.zeros:
            if name in combined and is_missing(combined[name]):
                combined[name] = 0.0
        if c.date_parts:
            self._date_parts(combined, c.date_parts)
        if self.recency:
            event = combined[EVENT_TS]
            seconds = NAN if event is NAT else (event - EPOCH).total_seconds()
            for name, column in self.recency.items():
                if column not in combined:  # no stored features: as assemble() answers it
                    raise Fallback("recency without its stored feature")
                combined[name] = (seconds - _number(combined[column])) / DAY_SECONDS
        inputs = {name: self._input(combined, name) for name in c.inputs}
        missing = {name: is_missing(v) for name, v in stored.items()}
        return OneRow(inputs, row, missing, ages)

    @staticmethod
    def _date_parts(combined: dict[str, Any], spec: dict[str, Any]) -> None:
        if spec["column"] not in combined:
            raise Fallback("date parts of a column the request lacks")
        stamp = combined[spec["column"]]
        if not (stamp is NAT or isinstance(stamp, pd.Timestamp) and stamp.tzinfo):
            raise Fallback("date parts of a value that is not a typed time")
        local = None if stamp is NAT else stamp.tz_convert(spec["timezone"])
        for part in spec["parts"]:
            if local is None:
                value = NAN
            elif part == "weekofyear":
                value = float(local.isocalendar()[1])
            else:
                value = float(getattr(local, part))
            combined[f"{spec['column']}_{part}"] = value

    def _input(self, combined: dict[str, Any], name: str) -> Any:
        value = combined.get(name)
        if name in self.cats:
            return NAN if is_missing(value) or value is NAT else _text(value)
        if value is NAT:
            return NAN
        if isinstance(value, pd.Timestamp | str):
            raise Fallback("a time or text where a number goes")
        return _number(value)


def is_missing(value: Any) -> bool:
    """None or NaN: no value (the online store had none, or the request sent none)."""
    return value is None or (isinstance(value, float) and math.isnan(value))
