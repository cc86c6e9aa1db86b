"""The one step that turns rows (a training table, a batch file, one request) into model inputs.

prepare: times read by the one rule (contract/timeutil), derived columns added, keys typed.
assemble: features fetched for the rows' entity keys as of their event time (offline,
point-in-time) or now (online), renamed to the model's input names, date parts and recency added,
and the columns typed exactly as in training. Training, batch scoring and serving all call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd

from mlrig.components.config.schema import Derivation
from mlrig.components.contract.by_value import map_present
from mlrig.components.contract.contract import Contract, FeatureSet
from mlrig.components.contract.derive import apply_derivations
from mlrig.components.contract.timeutil import as_utc, epoch_seconds, to_utc
from mlrig.components.runtime.catalog import EVENT_TS, INGESTED_AT

DAY_SECONDS = 86_400.0


class FeatureSource(Protocol):
    def fetch(self, fs: FeatureSet, entity_df: pd.DataFrame) -> pd.DataFrame: ...


@dataclass
class Assembled:
    frame: pd.DataFrame  # exactly the model's inputs, typed
    rows: pd.DataFrame  # the prepared rows (request columns, derived columns, event time)
    missing: pd.DataFrame  # bool per row and stored feature: the store had no value


def _typed_keys(frame: pd.DataFrame, key_types: dict[str, str]) -> pd.DataFrame:
    for key, kind in key_types.items():
        if key not in frame:
            continue
        if kind == "int":
            frame[key] = pd.to_numeric(frame[key], errors="coerce").round().astype("Int64")
        else:
            frame[key] = map_present(frame[key], _text)
    return frame


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def prepare(contract: Contract, frame: pd.DataFrame, now: datetime | None = None) -> pd.DataFrame:
    """Request-shaped rows -> UTC times, derived columns, typed keys, and the event time."""
    out = frame.reset_index(drop=True)  # a new frame: the caller's is not changed
    for name, spec in contract.request_fields.items():
        if spec.type == "datetime" and name in out:
            out[name] = to_utc(out[name], contract.timezone, spec.epoch, spec.day_first)
    derive = [Derivation.model_validate(d) for d in contract.derivations]
    out = apply_derivations(out, derive, skip_unavailable=True)
    if contract.event_time and contract.event_time in out:
        out[EVENT_TS] = to_utc(out[contract.event_time], contract.timezone)
    elif INGESTED_AT in out:
        out[EVENT_TS] = to_utc(out[INGESTED_AT], "UTC")
    elif EVENT_TS in out:  # rows of a training set, already stamped
        out[EVENT_TS] = to_utc(out[EVENT_TS], "UTC")
    else:
        out[EVENT_TS] = pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC")
    return _typed_keys(out, contract.entity_keys)


def _features(contract: Contract, rows: pd.DataFrame, source: FeatureSource) -> pd.DataFrame:
    fs = contract.features
    if fs is None or not fs.views:
        return pd.DataFrame(index=rows.index)
    keys = list(contract.entity_keys)
    complete = rows[keys].notna().all(axis=1)
    entity_df = rows.loc[complete, [*keys, EVENT_TS]].reset_index(drop=True)
    for key, kind in contract.entity_keys.items():
        if kind == "int":
            entity_df[key] = entity_df[key].astype("int64")
    fetched = source.fetch(fs, entity_df) if len(entity_df) else pd.DataFrame()
    fetched.index = rows.index[complete]
    if len(fetched) == len(rows):  # every row has its key: the same rows, no copy
        return fetched
    return fetched.reindex(rows.index)  # rows without a full key get no features


def add_date_parts(frame: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    """Calendar parts of a UTC timestamp in the configured zone (hour, dayofweek, ...)."""
    local = as_utc(frame[spec["column"]]).dt.tz_convert(spec["timezone"])
    for part in spec["parts"]:
        values = local.dt.isocalendar().week if part == "weekofyear" else getattr(local.dt, part)
        frame[f"{spec['column']}_{part}"] = pd.to_numeric(values).astype("float64")
    return frame


def model_frame(frame: pd.DataFrame, inputs: list[str], categorical: list[str]) -> pd.DataFrame:
    """Exactly the model's columns: categoricals as text (missing = NaN), the rest float64.

    Built in one DataFrame call from whole-column arrays (setting columns one by one costs more
    than the conversions on a one-row request), without copying them into one block: on a
    million rows, pandas' consolidation cost as much as everything else here."""
    cats = set(categorical)
    data: dict[str, Any] = {}
    for column in inputs:
        if column not in frame:  # as the rows had it all missing
            data[column] = np.full(len(frame), np.nan, dtype=object if column in cats else None)
            continue
        values = frame[column]
        if column in cats:
            text = map_present(values, _text).to_numpy(dtype=object)
            text[pd.isna(text)] = np.nan  # missing as NaN, what the encoders were fitted with
            data[column] = text
        elif pd.api.types.is_numeric_dtype(values.dtype):  # nullable ints: <NA> as NaN
            data[column] = values.to_numpy(dtype="float64", na_value=np.nan)
        else:
            data[column] = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    return pd.DataFrame(data, index=frame.index, columns=inputs, copy=False)


def assemble(
    contract: Contract,
    rows: pd.DataFrame,
    source: FeatureSource,
    now: datetime | None = None,
    prepared: bool = False,
) -> Assembled:
    """Model inputs for rows (request-shaped, or already prepared)."""
    rows = rows if prepared else prepare(contract, rows, now)
    fetched = _features(contract, rows, source)
    missing = fetched.isna()  # before the zeros below fill a count or sum in
    # not copied: fetched is this call's own, and rows only gains columns in combined
    combined = pd.concat([rows, fetched], axis=1, copy=False)
    if contract.features:  # an entity with no events has a count and a sum of 0
        zeros = [c for c in contract.features.zero_if_missing if c in combined]
        combined[zeros] = combined[zeros].fillna(0.0)
    if contract.date_parts:
        combined = add_date_parts(combined, contract.date_parts)
    if contract.features:
        event = epoch_seconds(combined[EVENT_TS])
        for name, stored_col in contract.features.recency.items():
            combined[name] = (event - combined[stored_col]) / DAY_SECONDS
    frame = model_frame(combined, contract.inputs, contract.categorical)
    return Assembled(frame=frame, rows=rows, missing=missing)
