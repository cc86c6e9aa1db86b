"""A compiled model's preprocessing (compiled_model.py's segments) as ONNX nodes: numbers are held
to their training range, filled, flagged and scaled; a category is looked up (LabelEncoder, then a
row of its encoded columns: one-hot levels, a target encoding, an ordinal code, LightGBM's own
category position); an unseen and a missing ("") category get the rows the pipeline gives them."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlrig.components.contract.compiled_model import CompiledModel
from mlrig.components.contract.to_onnx.graph import Graph

MISSING_TEXT = ""  # a missing category, in a string tensor


class CannotConvert(ValueError):
    """A part of the pipeline has no ONNX form here; the message names it."""


def features(g: Graph, member: CompiledModel, inputs: dict[str, str]) -> str:
    """The member's encoded columns, [N, n] doubles, from the graph's inputs (name -> tensor)."""
    recode = dict(member.recode)
    parts, start = [], 0
    for segment in member.segments:
        kind = type(segment).__name__
        if kind == "_Passthrough":
            part = _concat(g, [g.double(inputs[c]) for c in segment.columns])
        elif kind == "_Numeric":
            part = _numeric(g, segment, inputs)
        elif kind == "_Categorical":
            part = _categorical(g, segment, inputs, recode, start)
        elif kind == "_Text":
            raise CannotConvert(
                f"the text topics of '{segment.column}' (TF-IDF and SVD of free text) "
                "have no ONNX form here"
            )
        else:
            raise CannotConvert(f"the preprocessing step {kind}")
        parts.append(part)
        start += _width(segment)
    return _concat(g, parts)


def _width(segment: Any) -> int:
    if type(segment).__name__ == "_Categorical":
        return sum(len(unseen) for _, _, unseen, _ in segment.tables)
    if type(segment).__name__ == "_Numeric":
        return len(segment.columns) + len(segment.flags)
    return len(segment.columns)


def _concat(g: Graph, parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=1)


def _numeric(g: Graph, segment: Any, inputs: dict[str, str]) -> str:
    x = _concat(g, [g.double(inputs[c]) for c in segment.columns])
    gone = g.op("IsNaN", x)
    held = g.op("Min", g.op("Max", x, g.const(segment.low, "low")), g.const(segment.high, "high"))
    filled = g.op("Where", gone, g.const(segment.fill, "fill"), held)
    if segment.flags:
        flags = g.op("Gather", g.double(gone), g.const(segment.flags, "flagged"), axis=1)
        filled = g.op("Concat", filled, flags, axis=1)
    centred = g.op("Sub", filled, g.const(segment.mean, "mean"))
    return g.op("Div", centred, g.const(segment.scale, "scale"))


def _categorical(
    g: Graph, segment: Any, inputs: dict[str, str], recode: dict[int, dict], start: int
) -> str:
    parts = []
    for column, table, unseen, missing in segment.tables:
        if MISSING_TEXT in table:
            raise CannotConvert(f"'{column}' has the empty text as a category: it marks missing")
        known = list(table)
        rows = np.array([table[k] for k in known] + [unseen, missing], dtype=float)
        for j in range(rows.shape[1]):  # LightGBM reads its own position of the category
            if start + j in recode:
                codes = recode[start + j]
                rows[:, j] = [codes.get(v, np.nan) for v in rows[:, j]]
        start += rows.shape[1]
        index = g.op(
            "LabelEncoder",
            inputs[column],
            domain="ai.onnx.ml",
            keys_strings=[*known, MISSING_TEXT],
            values_int64s=[*range(len(known)), len(known) + 1],
            default_int64=len(known),
        )
        flat = g.op("Squeeze", index, g.const([1], "axis"))
        parts.append(g.op("Gather", g.const(rows, f"{column}_rows"), flat, axis=0))
    return _concat(g, parts)
