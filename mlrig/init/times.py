"""`mlrig init`: whole numbers that are Unix times (1672531200 is 2023-01-01 00:00 UTC).

A column is read as Unix times when it is the event time (--timestamp) or its name says time
(`unix_time`, `created_at_ms`, `ts`, `eventTime`), and every value falls within 1980-2100 in one
unit: seconds, milliseconds, microseconds or nanoseconds. Anything else named so stays a number.
An event time of whole numbers (1700 or 1700.0) within the years pandas holds whole (1678-2261) is
a column of years (a yearly panel, or a series as old as the sunspot counts'): 2017 is the first
moment of 2017 (`epoch: year`). Only the column --timestamp names is read so.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from mlrig.components.contract.timeutil import EPOCH_UNITS, YEAR, YEARS, day_order, to_utc

_TIME_NAME = re.compile(
    r"(^|_)(time|timestamp|ts|date|datetime|epoch|unix|at|created|updated)($|_)|(time|date|stamp)$",
    re.IGNORECASE,
)
_FIRST, _LAST = 315_532_800, 4_102_444_800  # 1980-01-01 and 2100-01-01 in seconds
UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


def epoch_unit(values: pd.Series) -> str | None:
    """The unit in which every present value is a Unix time within 1980-2100, if there is one."""
    numbers = pd.to_numeric(values.dropna(), errors="coerce")
    if not len(numbers) or numbers.isna().any():
        return None
    for unit, ns in EPOCH_UNITS.items():
        scale = 10**9 / ns  # units in one second
        if numbers.min() >= _FIRST * scale and numbers.max() < _LAST * scale:
            return unit
    return None


def unix_time_columns(
    frame: pd.DataFrame,
    columns: dict[str, dict[str, Any]],
    timestamp: str | None,
    exclude: list[str],
) -> dict[str, str]:
    """Number columns (of the inferred `columns`) to read as Unix times, with their unit."""
    found = {}
    for name, spec in columns.items():
        if spec["type"] not in ("int", "float") or name in exclude:
            continue
        if name != timestamp and not _TIME_NAME.search(name):
            continue
        unit = epoch_unit(frame[name]) or (_years(frame[name]) if name == timestamp else None)
        if unit:
            found[name] = unit
    return found


def _years(values: pd.Series) -> str | None:
    """'year' when every present value is a whole year (2015, 2016, ...): a yearly panel."""
    numbers = pd.to_numeric(values.dropna(), errors="coerce")
    if not len(numbers) or numbers.isna().any() or (numbers != numbers.round()).any():
        return None
    return YEAR if numbers.between(*YEARS).all() else None


def epoch_notes(frame: pd.DataFrame, config: dict[str, Any]) -> list[str]:
    """Say which columns init read as Unix times, their span, and how requests give them."""
    notes = []
    for name, spec in config["dataset"]["tables"]["main"]["columns"].items():
        if not spec.get("epoch"):
            continue
        times = to_utc(frame[name], "UTC", spec["epoch"]).dropna()
        if spec["epoch"] == YEAR:
            zone = config["dataset"].get("timezone", "UTC")
            notes.append(
                f"'{name}' holds years ({times.min():%Y} to {times.max():%Y}): each is read as "
                f"the first moment of its year in {zone} (epoch: year); a request gives it as a "
                "year (2018) or as ISO 8601 text"
            )
            continue
        notes.append(
            f"'{name}' holds Unix times in {UNIT_NAMES[spec['epoch']]} ({times.min():%Y-%m-%d} to "
            f"{times.max():%Y-%m-%d} UTC): read as times (epoch: {spec['epoch']}); a request gives "
            "it as a number the same way, or as ISO 8601 text"
        )
    return notes


def day_orders(frame: pd.DataFrame, columns: dict[str, dict[str, Any]]) -> dict[str, bool]:
    """Datetime columns written as 05/01/2024, with the day order their values show (day first
    where some first number is over 12, month first where some second one is, month first
    where neither tells). Written into the config, a batch of early-month dates reads as
    training did."""
    found = {}
    for name, spec in columns.items():
        if spec["type"] != "datetime" or spec.get("epoch"):
            continue
        order = day_order(frame[name].dropna())
        if order is not None and order != (True, True):
            found[name] = order == (True, False)
    return found


def day_order_notes(frame: pd.DataFrame, config: dict[str, Any]) -> list[str]:
    """A column of dates such as 05/01/2024 whose values cannot tell day from month."""
    notes = []
    for name, spec in config["dataset"]["tables"]["main"]["columns"].items():
        if spec.get("day_first") is False and day_order(frame[name].dropna()) == (False, False):
            notes.append(
                f"'{name}' writes dates as 05/01/2024 and no value has a number over 12 in "
                "either place, so the day order cannot be told: read month first (1 May); "
                f"set day_first: true on '{name}' if the day comes first"
            )
    return notes
