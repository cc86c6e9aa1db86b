"""Columns computed from other columns, applied the same way in training and at serving time."""

from __future__ import annotations

import pandas as pd

from mlrig.components.config.schema import Derivation
from mlrig.components.contract.contract import label_key


def _apply_one(frame: pd.DataFrame, spec: Derivation) -> pd.Series:
    if spec.add_minutes:
        am = spec.add_minutes
        minutes = pd.Series(am.constant, index=frame.index, dtype="float64")
        for col in am.minutes:
            minutes = minutes + pd.to_numeric(frame[col], errors="coerce")
        return frame[am.to] + pd.to_timedelta(minutes, unit="min")
    if spec.concat:
        parts = [frame[c].astype("string") for c in spec.concat.columns]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined + spec.concat.sep + part
        return joined.astype(object).where(joined.notna(), None)
    if spec.equals:
        target = label_key(spec.equals.value)
        values = frame[spec.equals.column]
        hit = values.map(lambda v: label_key(v) == target if pd.notna(v) else False)
        return hit.astype("float64").where(values.notna())
    assert spec.greater_than is not None
    values = pd.to_numeric(frame[spec.greater_than.column], errors="coerce")
    return (values > spec.greater_than.value).astype("float64").where(values.notna())


def apply_derivations(
    frame: pd.DataFrame, specs: list[Derivation], *, skip_unavailable: bool = False
) -> pd.DataFrame:
    """Add each derived column in order. With skip_unavailable, specs whose inputs are missing
    (or whose output the caller already supplied) are skipped: serving sends only some columns."""
    out = frame.copy()
    for spec in specs:
        missing = [c for c in spec.inputs() if c not in out.columns]
        if skip_unavailable and (missing or spec.name in out.columns):
            continue
        if missing:
            raise KeyError(f"derivation '{spec.name}' needs columns {missing}")
        out[spec.name] = _apply_one(out, spec)
    return out
