"""Turning request-shaped rows (entity keys + request-time fields) into model rows.

Shared by the REST service (one row, online features) and batch scoring (many rows,
point-in-time features), so both prepare inputs the same way.
"""

from __future__ import annotations

import pandas as pd

from mlrig.components.config.schema import ColumnSpec, Config
from mlrig.components.validate.derive import apply_derivations


def request_columns(cfg: Config) -> dict[str, ColumnSpec]:
    """Validation rules of a batch input: every request field present and of its type."""
    return {
        name: ColumnSpec(type=kind, nullable=False)
        for name, kind in cfg.serving.request_fields.items()
    }


def prepare_requests(cfg: Config, frame: pd.DataFrame) -> pd.DataFrame:
    """Localize naive datetimes in serving.timezone, convert to UTC, add derived columns."""
    out = frame.copy()
    for name, kind in cfg.serving.request_fields.items():
        if kind != "datetime":
            continue
        values = pd.to_datetime(out[name])
        if values.dt.tz is None:
            values = values.dt.tz_localize(cfg.serving.timezone)
        out[name] = values.dt.tz_convert("UTC")
    derive = cfg.dataset.tables[cfg.dataset.main].derive
    return apply_derivations(out, derive, skip_unavailable=True)


def as_model_frame(frame: pd.DataFrame, inputs: list[str]) -> pd.DataFrame:
    """Exactly the model's columns, numeric ones as float (missing features become NaN)."""
    row = frame.reindex(columns=inputs)
    text = {c for c in inputs if row[c].dtype == object and row[c].map(type).eq(str).any()}
    mixed = [c for c in inputs if c not in text and row[c].dtype == object]
    for column in mixed:  # None/NaN-only or numbers held as objects
        row[column] = pd.to_numeric(row[column], errors="coerce")
    return row.astype({c: "float64" for c in inputs if c not in text})
