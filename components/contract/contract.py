"""The model's contract: everything needed to turn a request or a batch row into model inputs.

The features stage drafts it from the config and the feature-set version it registered; the train
stage completes it (inputs, label encoding, threshold) and logs it inside the model version, so
serving and batch scoring use the contract of the version they pinned, never the current config.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.config.checks import main_keys, request_fields
from mlrig.components.config.schema import Config
from mlrig.components.runtime.catalog import CONTRACT_FILE

FORMAT = 1


@dataclass
class FeatureSet:
    """The Feast objects of one feature-set version: its definitions (views, columns, windows,
    TTLs, key types), never its data. Names carry the version, so a run with other definitions
    registers new ones beside them instead of changing these; the data behind them keeps
    flowing (`mlrig features materialize`)."""

    version: str
    service: str  # versioned FeatureService name
    views: dict[str, str]  # Feast view name -> the config's view name
    project: str
    recency: dict[str, str] = field(default_factory=dict)  # input -> stored epoch column
    zero_if_missing: list[str] = field(default_factory=list)  # counts/sums: no events means 0
    # the data the model was trained on (a hash of its view tables): lineage, never what it reads
    snapshot: str = ""


@dataclass(frozen=True)
class RequestField:
    """One field a request (or a batch row) carries, and how its text is read."""

    type: str  # int | float | str | bool | datetime
    required: bool = True  # a key, the event time or a column that was never null in training
    missing: list[str] = field(default_factory=list)  # texts that mean "no value"
    number_format: str | None = None  # currency | percent: numbers written as text
    epoch: str | None = None  # s | ms | us | ns | year: a time written as a number
    day_first: bool | None = None  # how 05/01/2024 reads
    text: bool = False  # free text (longer than a category)

    @classmethod
    def of(cls, value: Any) -> RequestField:
        """From its stored form (a dict; a bare type name in the oldest contracts)."""
        if isinstance(value, RequestField):
            return value
        if isinstance(value, str):
            return cls(type=value)
        return cls(**value)


@dataclass
class Contract:
    task: str  # binary | multiclass | regression (set by train; "classification" before)
    target: str
    request_fields: dict[str, RequestField]  # stored as dicts (to_dict), read back typed
    entity_keys: dict[str, str]  # main-table join key -> int | str
    derivations: list[dict[str, Any]]
    date_parts: dict[str, Any] | None
    event_time: str | None
    timezone: str
    features: FeatureSet | None
    inputs: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)  # inputs carried as text
    text: list[str] = field(default_factory=list)  # of those, free text (encoded as topics)
    classes: list[Any] = field(default_factory=list)  # encoded index -> label
    positive_label: Any = None
    threshold: float = 0.5
    # the main table's other columns (declared, derived, left out): a batch may hold them
    table_columns: list[str] = field(default_factory=list)
    format: int = FORMAT

    def __post_init__(self) -> None:
        self.request_fields = {n: RequestField.of(f) for n, f in self.request_fields.items()}

    # --- (de)serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Contract:
        data = dict(data)
        feats = data.get("features")
        data["features"] = FeatureSet(**feats) if feats else None
        return cls(**data)

    def save(self, folder: str | Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / CONTRACT_FILE).write_text(json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, folder: str | Path) -> Contract:
        return cls.from_dict(json.loads((Path(folder) / CONTRACT_FILE).read_text()))

    # --- labels ------------------------------------------------------------------------------
    @property
    def is_classifier(self) -> bool:
        return self.task in ("binary", "multiclass", "classification")

    def encode(self, labels: pd.Series) -> np.ndarray:
        """Original labels -> 0..k-1 (binary: the positive label is 1); unknown labels -> -1."""
        index = {label_key(c): i for i, c in enumerate(self.classes)}
        codes = {
            v: index.get(label_key(v), -1) for v in labels.dropna().unique()
        }  # per distinct label
        return labels.map(codes).fillna(-1).to_numpy(dtype=int)

    def targets(self, frame: pd.DataFrame) -> np.ndarray:
        """The target as the model sees it: encoded classes, or float values (regression)."""
        if self.task == "regression":
            return pd.to_numeric(frame[self.target], errors="coerce").to_numpy(dtype=float)
        return self.encode(frame[self.target])

    def decode(self, codes: np.ndarray) -> list[Any]:
        return [self.classes[int(i)] for i in codes]

    def required_fields(self) -> list[str]:
        return [n for n, f in self.request_fields.items() if f.required]


def _spelled(value: Any) -> str:
    """A label as text, numbers and bools as one (1, 1.0, True and 'true' are '1')."""
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return "1" if value.strip().lower() == "true" else "0"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def label_key(value: Any) -> str:
    """Labels compare by value across types: 1, 1.0, '1', True and 'true' mean the same class
    (a bool target is read as 1/0), and text without its case and surrounding spaces: 'Yes ',
    'YES' and 'yes' are one class."""
    return _spelled(value).strip().casefold() if isinstance(value, str) else _spelled(value)


def spellings(labels: pd.Series) -> dict[Any, list[Any]]:
    """Each class of a target, named as most rows write it (a tie: the lower-case spelling), ->
    every way the rows write it (most rows first; one entry where a class is written one way)."""
    counts = labels.dropna().value_counts()  # counted first: a million labels, a few classes
    counts = counts.groupby(counts.index.map(plain), sort=False).sum()
    # most rows first; a tie goes to the plain lower-case spelling
    ordered = sorted(
        counts.items(),
        key=lambda kv: (-kv[1], label_key(kv[0]) != _spelled(kv[0]), _spelled(kv[0])),
    )
    named: dict[str, Any] = {}
    out: dict[Any, list[Any]] = {}
    for value, _ in ordered:
        key = label_key(value)
        named.setdefault(key, value)
        out.setdefault(named[key], []).append(value)
    return out


def plain(value: Any) -> Any:
    """A label as a plain JSON value: numpy scalars unwrapped, integral floats as ints."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def label_classes(
    labels: pd.Series, task: str, positive: Any = None, kind: str | None = None
) -> tuple[str, list[Any], Any]:
    """(task, classes, positive label) for a target column. Binary: [negative, positive], the
    positive label from the config or else the larger of the two; multiclass: sorted. kind: the
    target column's type; a bool target (read as 1/0) has the classes False and True."""
    if task == "regression":
        return "regression", [], None
    values = sorted(spellings(labels), key=_spelled)
    if kind == "bool":
        values = [bool(v) for v in values]
    if len(values) < 2:
        raise ValueError(f"target has a single class {values}: nothing to classify")
    if len(values) == 2:
        pos = values[1] if positive is None else positive
        matches = [v for v in values if label_key(v) == label_key(pos)]
        if not matches:
            raise ValueError(f"dataset.positive_label: {pos!r} is not one of the labels {values}")
        neg = next(v for v in values if label_key(v) != label_key(pos))
        return "binary", [neg, matches[0]], matches[0]
    if positive is not None:
        raise ValueError(f"dataset.positive_label: the target has {len(values)} classes")
    return "multiclass", values, None


def draft(cfg: Config, features: FeatureSet | None) -> Contract:
    """The request side of the contract, from the config, plus the registered feature set."""
    ds = cfg.dataset
    main = ds.tables[ds.main]
    spec = main.columns
    keys = main_keys(cfg)
    types = main.all_columns()
    fields = {}
    for name, kind in request_fields(cfg).items():
        nullable = spec[name].nullable if name in spec else False
        required = name in keys or name == ds.event_timestamp or not nullable
        column = spec.get(name)
        fields[name] = RequestField(
            type=kind,
            required=required,
            # how a batch file writes it, as in training
            missing=list(column.missing) if column and column.missing else [],
            number_format=column.number_format if column else None,
            epoch=column.epoch if column else None,  # a time written as a number
            day_first=column.day_first if column else None,  # how 05/01/2024 reads in batches
            text=bool(column and column.text),  # free text: longer than a category's 256
        )
    date_parts = None
    if ds.date_parts:
        date_parts = ds.date_parts.model_dump()
        date_parts["timezone"] = date_parts["timezone"] or ds.timezone
    return Contract(
        task=ds.task,
        target=ds.target,
        request_fields=fields,
        entity_keys={k: ("int" if types[k] == "int" else "str") for k in keys},
        derivations=[d.model_dump(exclude_none=True) for d in main.derive if d.name != ds.target],
        date_parts=date_parts,
        event_time=ds.event_timestamp,
        timezone=ds.timezone,
        features=features,
        positive_label=ds.positive_label,
        table_columns=[c for c in [*types, *main.left_out] if c not in fields],
    )
