"""`mlrig init`: a working mlrig.yaml for a table mlrig has never seen.

Column types are inferred from the data, text columns become categoricals, the task follows from
the target (numbers with many distinct values: regression; otherwise classification), and a
binary target's positive label is 'yes' of yes/no-like labels, else its rarer class. Nothing else
needs editing for a first run.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlrig.components.contract.acceptance import BOOL_TEXT
from mlrig.components.contract.contract import label_key, plain, spellings
from mlrig.components.contract.number_text import NumberText
from mlrig.components.contract.timeutil import YEARS, to_utc
from mlrig.init.columns import (
    column_type,
    decimal_commas,
    headerless_hint,
    infer_task,
    numbers_as_text,
    positive_of,
    uninformative,
)
from mlrig.init.history import history_view
from mlrig.init.times import day_orders, unix_time_columns


class InitError(ValueError):
    """The table cannot be described as asked (e.g. the target is not a column)."""


GENERIC_NAMES = {
    "train",
    "training",
    "test",
    "data",
    "dataset",
    "df",
    "export",
    "input",
    "raw",
    "table",
    "main",
    "file",
    "query",
    "api",
    "records",
    "sample",
}


def project_name(source: str, target: str) -> str:
    """The table and the target, as a project (and model) name: `orders-returned`; a generic
    file name (`train.csv`, `part-0.parquet`) gives way to its folder's name."""
    path = Path(source.rstrip("/"))
    table = path.stem
    if table.lower() in GENERIC_NAMES or re.fullmatch(r"part[-_]?\d+.*", table.lower()):
        table = path.parent.name
    slugs = [re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") for text in (table, target)]
    return "-".join(dict.fromkeys(s for s in slugs if s)) or "mlrig"


def build_config(
    frame: pd.DataFrame,
    source_path: str,
    target: str,
    entities: list[str] | None = None,
    timestamp: str | None = None,
    project: str | None = None,
    sep: str | None = None,
    encoding: str = "utf-8",
    typed: bool = False,
    location: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str], dict[str, NumberText]]:
    """The config of a flat table (all features come with the request), the columns it leaves
    out with why, and the text columns it reads as numbers with how. sep and encoding: the CSV's
    field separator and encoding as sniffed; typed: the file types its columns (column_type);
    location: the config's source where the table is not a file (a database, an HTTP API)."""
    entities = entities or []
    _check_named(frame, target, entities, timestamp)
    table = _table(frame, target, entities, timestamp, sep, typed)
    columns = table.columns
    task = infer_task(table.frame[target], columns[target]["type"])
    dataset: dict[str, Any] = {
        "main": "main",
        "target": target,
        "task": task,
        "event_timestamp": timestamp,
    }
    classes = 0
    if task == "classification":
        counts = _label_counts(table.frame[target], columns[target]["type"], target)
        classes, positive = len(counts), _positive_label(counts)
        if positive is not None:
            dataset["positive_label"] = positive
    parts = _date_parts(table.frame, columns, target, timestamp)
    if parts:
        dataset["date_parts"] = parts
    source = _source(location or {"kind": "file", "path": source_path}, sep, encoding)
    if table.decimal_comma:
        source["decimal"] = ","
    dataset["tables"] = {"main": {"source": source, "columns": columns}}
    if table.left_out:  # a batch shaped like this table may hold them: ignored, not unknown
        dataset["tables"]["main"]["left_out"] = [str(name) for name in table.left_out]
    name = project or project_name(source_path, target)
    config: dict[str, Any] = {"project": name, "dataset": dataset}
    if entities:
        _add_entities(config, table.frame, entities, timestamp, target)
    config["model"] = _model(task, classes)
    numbers = {n: t for n, t in table.numbers.items() if n in columns}
    return config, table.left_out, numbers


def _check_named(
    frame: pd.DataFrame, target: str, entities: list[str], timestamp: str | None
) -> None:
    named = [("--target", target), *[("--entity", e) for e in entities], ("--timestamp", timestamp)]
    for flag, column in named:
        if column is not None and column not in frame.columns:
            have = f"(have {list(frame.columns)})"
            raise InitError(f"{flag}: no column '{column}' {have}" + headerless_hint(frame))


@dataclass
class _Table:
    """The table as read: its values (numbers and Unix times converted), each kept column's
    spec, the columns left out (with why) and the text read as numbers."""

    frame: pd.DataFrame
    columns: dict[str, dict[str, Any]]
    left_out: dict[str, str]
    numbers: dict[str, NumberText]
    decimal_comma: bool


def _table(
    frame: pd.DataFrame,
    target: str,
    entities: list[str],
    timestamp: str | None,
    sep: str | None,
    typed: bool,
) -> _Table:
    # 3,5 is a number only where ',' does not separate the fields
    frame, comma = decimal_commas(frame) if sep not in (None, ",") else (frame, False)
    # once: a pass each; a target of numbers stored as text is still numbers (its task says how)
    kinds = {name: column_type(frame[name], typed and name != target) for name in frame.columns}
    frame, numbers, comma = numbers_as_text(frame, entities, sep, comma, kinds)
    kinds.update({name: how.type for name, how in numbers.items()})
    kept = [target, *entities, *([timestamp] if timestamp else [])]
    left_out, text = uninformative(frame, kept, kinds)
    columns: dict[str, dict[str, Any]] = {}
    for name in frame.columns:
        if name in left_out:
            continue
        spec: dict[str, Any] = {"type": kinds[name]}
        # a key is required (a request must name its entity): rows without one are kept aside;
        # a target never is (a row's label may come after it)
        if (frame[name].notna().all() and name != target) or name in entities:
            spec["nullable"] = False
        if name in numbers:
            spec.update(numbers[name].spec())
        if str(name) in text:
            spec["text"] = True  # read as words and word pairs, not as a category
        columns[str(name)] = spec
    for name, unit in unix_time_columns(frame, columns, timestamp, [target, *entities]).items():
        columns[name] = {**columns[name], "type": "datetime", "epoch": unit}
        frame[name] = to_utc(frame[name], "UTC", unit)
    for name, first in day_orders(frame, columns).items():
        columns[name]["day_first"] = first
    if timestamp and columns[timestamp]["type"] != "datetime":
        raise InitError(
            f"--timestamp: column '{timestamp}' does not hold times (ISO 8601 or other date "
            f"text, whole years within {YEARS[0]}-{YEARS[1]}, or Unix times within 1980-2100 in "
            "seconds, ms, us or ns)"
        )
    return _Table(frame, columns, left_out, numbers, comma)


def _label_counts(target: pd.Series, kind: str, name: str) -> pd.Series:
    """Each class's rows, most first, as validate will read the labels."""
    labels = target.dropna()
    if kind in ("int", "float"):
        labels = pd.to_numeric(labels)
    elif kind == "bool":  # as validate reads it: true/false are 1/0
        labels = labels.astype(str).str.strip().str.lower().map(BOOL_TEXT)
    each = labels.value_counts()  # 'yes', 'YES' and ' Yes' are one class:
    keys = each.groupby(each.index.map(label_key), sort=False).sum()
    counts = pd.Series({label: keys[label_key(label)] for label in spellings(labels)})
    counts = counts.sort_values(ascending=False, kind="stable")
    if len(counts) < 2:
        raise InitError(f"--target: '{name}' has a single value; nothing to predict")
    return counts


def _positive_label(counts: pd.Series) -> Any:
    """A binary target's positive label (None for 0/1 or more classes)."""
    if len(counts) == 2 and {plain(v) for v in counts.index} != {0, 1}:
        return positive_of(counts)
    return None


def _date_parts(
    frame: pd.DataFrame, columns: dict[str, dict], target: str, timestamp: str | None
) -> dict[str, Any] | None:
    """The event time's date parts; without one, the first other time column's (a time column
    is never a model input itself)."""
    times = [c for c, s in columns.items() if s["type"] == "datetime" and c != target]
    dated = timestamp or (times[0] if times else None)
    if not dated:
        return None
    times = to_utc(frame[dated], "UTC")
    parts = _calendar_parts(times)
    # a building's or a customer's year says much; the event's says where in a trend it falls
    # (a level that drifts, a label whose use changed) once the rows span two years or more
    # (on Seattle's weather, test accuracy 0.62 without it, 0.77 with: benchmarks/quality.py)
    if dated != timestamp or times.dt.year.nunique() >= 2:
        parts.insert(0, "year")
    return {"column": dated, "parts": parts} if parts else None


def _calendar_parts(times: pd.Series) -> list[str]:
    """The parts below the year that the times' resolution lets vary: none for whole years (the
    weekday of a 1 January is noise), the month for whole months, the hour only where a time has
    one."""
    known = times.dropna()
    if (known.dt.day == 1).all() and (known.dt.normalize() == known).all():
        return [] if (known.dt.month == 1).all() else ["month"]
    parts = ["month", "dayofweek", "dayofyear"]
    return ["hour", *parts] if (known.dt.hour != 0).any() else parts


def _source(location: dict[str, Any], sep: str | None, encoding: str) -> dict[str, Any]:
    source = dict(location)
    if sep not in (None, ","):
        source["sep"] = sep
    if encoding != "utf-8":
        source["encoding"] = encoding
    return source


def _model(task: str, classes: int) -> dict[str, Any]:
    """The candidates, and for three classes or more the metric runs are judged by: accuracy.
    The default ROC-AUC averages one class against the rest with every class weighed the same,
    so a class of 2 % of the rows steers the choice as much as one of 40 %, where a user judges
    a many-class model by how often it names the class (AutoGluon's default too). Tuned on
    Seattle's weather (five classes, snow 2 %), test accuracy 0.768 by ROC-AUC, 0.802 by
    accuracy (benchmarks/quality.py)."""
    model: dict[str, Any] = {"candidates": _candidates(task)}
    if classes > 2:
        model["primary_metric"] = "accuracy"
    return model


def _candidates(task: str) -> dict[str, Any]:
    """LightGBM's default search space (or, without it, gradient boosting) and a linear model."""
    candidates: dict[str, Any] = (
        {"lightgbm": {}}
        if importlib.util.find_spec("lightgbm")
        else {"hist_gradient_boosting": {"learning_rate": [0.05, 0.1]}}
    )
    if task == "classification":
        candidates["logistic_regression"] = {"C": [0.1, 1.0]}
    else:
        candidates["ridge"] = {"alpha": [0.1, 1.0, 10.0]}
    return candidates


def _add_entities(
    config: dict[str, Any],
    frame: pd.DataFrame,
    entities: list[str],
    timestamp: str | None,
    target: str,
) -> None:
    """The entities and, with an event time, the view of each entity's own past."""
    config["features"] = {"entities": [{"name": e, "join_key": e} for e in entities], "views": []}
    view = history_view(frame, config, entities, timestamp) if timestamp else None
    if view:  # the main table's own columns stay model inputs beside the view's
        config["features"]["views"] = [view]
        columns = config["dataset"]["tables"]["main"]["columns"]
        skip = {target, timestamp, *entities}
        config["dataset"]["request_features"] = [
            c for c, s in columns.items() if c not in skip and s["type"] != "datetime"
        ]
