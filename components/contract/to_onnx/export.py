"""`mlrig model export VERSION --format onnx`: the fitted model as one ONNX model beside its
contract, runnable with onnxruntime alone, checked against the pipeline before it is written.

The check scores rows of the model's own holdout both ways; a largest difference over the
tolerance (1e-5 for probabilities; for values, 1e-5 of their largest magnitude, at least 1e-5)
refuses the export, as does any step with no ONNX form, named."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.contract.assemble import model_frame
from mlrig.components.contract.compiled_model import compile_one
from mlrig.components.contract.contract import Contract
from mlrig.components.contract.metrics import scores
from mlrig.components.contract.to_onnx.build import build
from mlrig.components.contract.to_onnx.prep import MISSING_TEXT, CannotConvert

MODEL_FILE = "model.onnx"
CONTRACT_FILE = "contract.json"
TOLERANCE = 1e-5


class ExportRefused(ValueError):
    """The model cannot be exported faithfully; the message says which part and why."""


@dataclass(frozen=True)
class Exported:
    folder: Path
    rows: int
    largest_difference: float
    tolerance: float


def feeds(frame: pd.DataFrame, inputs: list[str], categorical: list[str]) -> dict[str, np.ndarray]:
    """onnxruntime's inputs from model rows: numbers as doubles (missing: NaN), categories as
    text (missing: "")."""
    out = {}
    for name in inputs:
        column = frame[name]
        if name in categorical:
            text = [v if isinstance(v, str) else MISSING_TEXT for v in column.tolist()]
            out[name] = np.array(text, dtype=object).reshape(-1, 1)
        else:
            values = pd.to_numeric(column, errors="coerce").astype("float64").to_numpy()
            out[name] = values.reshape(-1, 1)
    return out


def export_onnx(model: Any, contract: Contract, rows: pd.DataFrame, folder: Path) -> Exported:
    """Convert, check on rows (model inputs), write model.onnx and contract.json into folder."""
    import onnxruntime

    c = contract
    rows = model_frame(rows, c.inputs, c.categorical)  # as the pipeline reads them
    n_classes = len(c.classes) if c.task != "regression" else 0
    compiled, why = compile_one(model, c.task, c.inputs, c.categorical, n_classes)
    if compiled is None:
        raise ExportRefused(f"the pipeline cannot be converted: {why}")
    try:
        onx = build(compiled, c.inputs, c.categorical, n_classes, _doc(c))
    except CannotConvert as exc:
        raise ExportRefused(f"cannot convert {exc}") from None
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    got = session.run(None, feeds(rows, c.inputs, c.categorical))[0]
    expected = np.asarray(scores(model, rows[c.inputs], c.task, n_classes), dtype=float)
    difference = float(np.max(np.abs(got - expected.reshape(got.shape)))) if len(rows) else 0.0
    tolerance = TOLERANCE if n_classes else TOLERANCE * max(1.0, float(np.max(np.abs(expected))))
    if not difference <= tolerance:  # NaN fails too
        raise ExportRefused(
            f"the ONNX model's scores differ from the pipeline's by up to {difference:.3g} on "
            f"{len(rows)} holdout rows (tolerance {tolerance:.3g}): not written"
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MODEL_FILE).write_bytes(onx.SerializeToString())
    described = {**c.to_dict(), "onnx": _described(c, n_classes)}
    (folder / CONTRACT_FILE).write_text(json.dumps(described, indent=2, default=str))
    return Exported(folder, len(rows), difference, tolerance)


def _described(c: Contract, n_classes: int) -> dict[str, Any]:
    return {
        "model": MODEL_FILE,
        "inputs": {n: "string" if n in c.categorical else "double" for n in c.inputs},
        "input_shape": "[rows, 1] per input",
        "missing": {"double": "NaN", "string": MISSING_TEXT},
        "output": "probabilities" if n_classes else "value",
        "classes": [str(x) for x in c.classes] if n_classes else None,
        "threshold": c.threshold if c.task == "binary" else None,
    }


def _doc(c: Contract) -> str:
    what = f"probabilities of {c.classes}" if c.task != "regression" else f"{c.target} values"
    return f"mlrig model: {c.task}, {what}, from inputs {c.inputs}"
