"""Validation: cast each configured column, check its rules, quarantine the rows that break them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlrig.components.config.schema import ColumnSpec, Dataset, FileSource
from mlrig.components.contract.by_value import map_present
from mlrig.components.contract.derive import apply_derivations
from mlrig.components.contract.number_text import as_missing, read_numbers
from mlrig.components.contract.timeutil import named_zone, to_utc
from mlrig.components.runtime.catalog import INGESTED_AT, REASON
from mlrig.components.runtime.tables import clear_of


@dataclass
class TableReport:
    rows_in: int
    rows_ok: int
    rows_rejected: int
    reasons: dict[str, int] = field(default_factory=dict)
    missing_values: dict[str, int] = field(default_factory=dict)
    # the main table's accepted rows without a target (its label comes later): events the views
    # count, never rows a model learns from
    rows_unlabelled: int = 0


def labelled(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """The rows of the main table a model may learn from: those with a target (the frame itself
    when every row has one: no copy of a large table)."""
    missing = frame[target].isna()
    return frame[~missing].reset_index(drop=True) if missing.any() else frame


class ValidationStop(ValueError):
    """Too many rows rejected (or none left): the run stops at validate, nothing downstream runs."""


def check_rejections(name: str, report: TableReport, max_share: float) -> None:
    """Raise ValidationStop naming the table and its top reasons when it cannot be used."""
    top = ", ".join(
        f"{r} ({n})" for r, n in sorted(report.reasons.items(), key=lambda kv: -kv[1])[:3]
    )
    if report.rows_ok == 0:
        why = f"; reasons: {top}" if top else " (the source is empty)"
        raise ValidationStop(f"table '{name}': no rows left of {report.rows_in}{why}")
    share = report.rows_rejected / max(report.rows_in, 1)
    if share > max_share:
        raise ValidationStop(
            f"table '{name}': {share:.0%} of rows rejected (limit dataset.max_rejected_share "
            f"{max_share:.0%}); reasons: {top}; the rows are in the quarantine folder"
        )


class SchemaError(ValueError):
    """The table lacks configured columns: nothing row-level can fix that."""


# how a bool column's text is read: a bool target's classes are 1 and 0
BOOL_TEXT = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0}


def _cast(series: pd.Series, spec: ColumnSpec, timezone: str, decimal: str) -> pd.Series:
    kind = spec.type
    if kind in ("int", "float"):
        values = read_numbers(series, spec.number_format, decimal).astype("float64")
        values = values.where(~np.isinf(values))  # inf, -inf: no model takes them (flagged)
        if kind == "int":  # 3.5 is not an int; 3.0 is
            values = values.where(values.isna() | (values == values.round()))
        return values
    if kind == "bool":
        mapped = map_present(series, lambda v: BOOL_TEXT.get(str(v).strip().lower()))
        return mapped.astype("float64")
    if kind == "datetime":  # zoned values to UTC, naive ones read in the dataset's zone
        return to_utc(series, timezone, spec.epoch, spec.day_first)
    return map_present(series, str)


def _flag(reasons: pd.Series, mask: pd.Series, text: str) -> None:
    if not mask.any():  # the usual case: no row breaks the rule (reasons.isna() reads them all)
        return
    hit = mask & reasons.isna()
    reasons[hit] = text


def _column(
    col: str, spec: ColumnSpec, given: pd.Series, reasons: pd.Series, timezone: str, decimal: str
) -> pd.Series:
    """One column typed by its spec; each row that breaks a rule gets its reason (the first)."""
    raw = as_missing(given, spec.missing)
    values = _cast(raw, spec, timezone, decimal)
    if spec.type in ("int", "float"):
        infinite = np.isinf(pd.to_numeric(raw, errors="coerce").astype("float64"))
        _flag(reasons, infinite, f"{col}: not a finite number")
    failed = raw.notna() & values.isna()
    if spec.type == "datetime" and not spec.epoch and failed.any():  # why, for those rows only
        bad = raw[failed]
        number = pd.to_numeric(bad, errors="coerce").notna().reindex(raw.index, fill_value=False)
        unix = "if the column holds Unix times, set its epoch: s, ms, us or ns"
        _flag(reasons, number, f"{col}: a number, not a time ({unix})")
        zones = "EST, CET, IST mean different offsets in different places"
        _flag(
            reasons,
            named_zone(bad).reindex(raw.index, fill_value=False),
            f"{col}: a time in a named zone ({zones}); write its offset, -05:00, or the time "
            "in UTC",
        )
    _flag(reasons, failed, f"{col}: not a valid {spec.type}")
    if not spec.nullable:
        _flag(reasons, values.isna(), f"{col}: missing (not nullable)")
    if spec.min is not None:
        _flag(reasons, values.notna() & (values < spec.min), f"{col}: below min {spec.min}")
    if spec.max is not None:
        _flag(reasons, values.notna() & (values > spec.max), f"{col}: above max {spec.max}")
    if spec.allowed is not None:
        _flag(reasons, values.notna() & ~values.isin(spec.allowed), f"{col}: not allowed")
    return values


def validate_table(
    name: str,
    frame: pd.DataFrame,
    columns: dict[str, ColumnSpec],
    timezone: str = "UTC",
    passthrough: tuple[str, ...] | list[str] = (),
    decimal: str = ".",
) -> tuple[pd.DataFrame, pd.DataFrame, TableReport]:
    """Return (accepted rows, rejected rows with a _reason column, report).

    A column's `missing` texts are read as no value, its `number_format` (and the source's
    decimal mark) say how numbers written as text are read.
    Every row ends up in exactly one of the two frames; the first rule a row breaks is its reason.
    Passthrough columns (a row id, a label) are copied to the accepted rows untouched.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(f"table '{name}': missing columns {missing} (have {list(frame.columns)})")
    typed = pd.DataFrame(index=frame.index)
    reasons = pd.Series(None, index=frame.index, dtype=object)
    for col, spec in columns.items():
        typed[col] = _column(col, spec, frame[col], reasons, timezone, decimal)
    for col in passthrough:
        if col not in columns:
            typed[col] = frame[col]
    bad = reasons.notna()
    accepted = typed[~bad].reset_index(drop=True)
    rejected = clear_of(frame[bad], [REASON])  # a column of its own named _reason is kept
    rejected[REASON] = reasons[bad]
    report = TableReport(
        rows_in=len(frame),
        rows_ok=len(accepted),
        rows_rejected=int(bad.sum()),
        reasons={str(k): int(v) for k, v in reasons[bad].value_counts().items()},
        missing_values={c: int(n) for c, n in accepted.isna().sum().items() if n},
    )
    return accepted, rejected.reset_index(drop=True), report


def require_present(
    frame: pd.DataFrame, column: str, why: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off rows where a derived column (target, event time) is missing."""
    bad = frame[column].isna()
    rejected = clear_of(frame[bad], [REASON])
    rejected[REASON] = f"{column}: missing ({why})"
    return frame[~bad].reset_index(drop=True), rejected.reset_index(drop=True)


def accept_table(
    ds: Dataset, name: str, frame: pd.DataFrame, ingested_at: str | None = None
) -> tuple[pd.DataFrame, list[pd.DataFrame], TableReport]:
    """One table as the validate stage accepts it: cast and checked, its derivations added, and
    for the main table an event time on every row. A main-table row without a target is
    accepted and counted (rows_unlabelled): it is an event whose label comes later, which the
    views over the table count (and the live refresh brings online) but no model learns from
    (`labelled`). Returns (accepted rows, the rejected parts with their reasons, the report).
    The live refresh of feature tables (features/refresh.py) accepts new rows by the same rules."""
    spec = ds.tables[name]
    decimal = spec.source.decimal if isinstance(spec.source, FileSource) else "."
    columns = dict(spec.columns)
    if name == ds.main and ds.target in columns:  # a label may come later, whatever it says
        columns[ds.target] = columns[ds.target].model_copy(update={"nullable": True})
    ok, rejected, rep = validate_table(name, frame, columns, ds.timezone, decimal=decimal)
    ok = apply_derivations(ok, spec.derive)
    parts = [rejected]
    if name == ds.main:
        if ds.event_timestamp is None:
            ok[INGESTED_AT] = pd.Timestamp(ingested_at or pd.Timestamp.now(tz="UTC"))
        else:
            ok, rej = require_present(ok, ds.event_timestamp, "event timestamp")
            for reason, n in rej[REASON].value_counts().items():
                rep.reasons[str(reason)] = rep.reasons.get(str(reason), 0) + int(n)
            rep.rows_rejected += len(rej)
            rep.rows_ok -= len(rej)
            parts.append(rej)
        rep.rows_unlabelled = int(ok[ds.target].isna().sum())
    return ok, parts, rep
