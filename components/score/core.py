"""Batch input rules, from the model's contract: the request fields with their types; a field
the model can do without (nullable in training) may be null or absent, exactly as in training."""

from __future__ import annotations

import pandas as pd

from mlrig.components.config.schema import ColumnSpec
from mlrig.components.contract.contract import Contract


class BatchError(ValueError):
    """The batch file cannot be scored as a whole (unknown columns); the message names them."""


def request_columns(contract: Contract) -> dict[str, ColumnSpec]:
    """Validation rules of a batch input: each request field of its type, required ones set."""
    return {
        name: ColumnSpec(
            type=spec.type,
            nullable=not spec.required,
            missing=list(spec.missing),
            number_format=spec.number_format,
            epoch=spec.epoch,
            day_first=spec.day_first,
        )
        for name, spec in contract.request_fields.items()
    }


def conform(contract: Contract, frame: pd.DataFrame, passthrough: list[str]) -> pd.DataFrame:
    """Refuse unknown columns (naming them); add absent optional fields as nulls."""
    known = set(contract.request_fields) | set(passthrough)
    unknown = [c for c in frame.columns if c not in known]
    if unknown:
        raise BatchError(
            f"unknown columns {unknown}: the model takes {list(contract.request_fields)} "
            "(`mlrig score --keep NAME` carries a column such as a row id to the predictions)"
        )
    out = frame.copy()
    for name in contract.request_fields:
        if name not in out:
            out[name] = None
    return out
