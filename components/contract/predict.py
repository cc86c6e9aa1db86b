"""Model outputs in the user's terms, the same for batch scoring and serving: the label (decoded),
the positive-class probability (binary, cut at the contract's threshold) or one probability per
class (multiclass), or the value (regression)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.contract.contract import Contract, plain
from mlrig.components.contract.metrics import predict_codes, scores


def predict_frame(model: Any, contract: Contract, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per input row: prediction (+ probability / probability_<class>); no rows, the
    same columns empty."""
    if len(frame) == 0:  # models refuse an empty input; every row of a batch may be rejected
        width = len(contract.classes)
        raw = np.empty((0, width)) if contract.task != "regression" else np.empty(0)
    else:
        raw = scores(model, frame, contract.task, len(contract.classes))
    return pd.DataFrame(outputs(contract, raw), index=frame.index)


def outputs(contract: Contract, raw: np.ndarray) -> dict[str, Any]:
    """Model scores (n × k probabilities, or n values) -> the output columns by name."""
    if contract.task == "regression":
        return {"prediction": np.asarray(raw, dtype=float)}
    codes = predict_codes(raw, contract.task, contract.threshold)
    labels = np.empty(len(contract.classes), dtype=object)
    labels[:] = [plain(c) for c in contract.classes]  # each class once, not once a row
    out: dict[str, Any] = {"prediction": labels[np.asarray(codes, dtype=int)].tolist()}
    if contract.task == "binary":
        out["probability"] = raw[:, 1]
    else:
        for i, label in enumerate(contract.classes):
            out[f"probability_{label}"] = raw[:, i]
    return out


def response_one(contract: Contract, raw: np.ndarray) -> dict[str, Any]:
    """The answer for one row's scores (1 × k, or one value), as as_response gives it."""
    return as_response(
        contract, {name: values[0] for name, values in outputs(contract, raw).items()}
    )


def as_response(contract: Contract, row: pd.Series | dict[str, Any]) -> dict[str, Any]:
    """One predicted row as JSON-ready values."""
    out: dict[str, Any] = {}
    value = row["prediction"]
    if contract.task == "regression":
        out["prediction"] = float(value) if math.isfinite(value) else None
        return out
    out["prediction"] = plain(value)
    if contract.task == "binary":
        out["probability"] = round(float(row["probability"]), 6)
        out["positive_class"] = plain(contract.classes[1])  # whose probability it is
        out["threshold"] = contract.threshold
    else:
        out["probabilities"] = {
            str(c): round(float(row[f"probability_{c}"]), 6) for c in contract.classes
        }
    return out
