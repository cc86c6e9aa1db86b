"""A fitted model (a compiled pipeline, a Platt-calibrated one, or a blend of them) as one ONNX
model: one input per model input (numbers as doubles, categories as text with "" for missing),
one output: `probabilities` [N, classes] for classifiers, `value` [N, 1] for regressors."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from mlrig.components.contract.compiled_model import CompiledBlend, CompiledModel
from mlrig.components.contract.to_onnx import estimator, prep
from mlrig.components.contract.to_onnx.graph import Graph


def build(
    compiled: CompiledModel | CompiledBlend,
    inputs: list[str],
    categorical: list[str],
    n_classes: int,
    doc: str,
) -> onnx.ModelProto:
    """The ONNX model; n_classes: the contract's classes (0 for regression), one probability
    column each, even for a class the model never saw (as metrics.scores pads them)."""
    g = Graph()
    cats = set(categorical)
    feeds = {name: name for name in inputs}
    declared = [
        helper.make_tensor_value_info(
            name, TensorProto.STRING if name in cats else TensorProto.DOUBLE, [None, 1]
        )
        for name in inputs
    ]
    blend = isinstance(compiled, CompiledBlend)
    members = compiled.members if blend else [compiled]
    weights = compiled.weights if blend else [1.0]
    classes = np.arange(n_classes) if compiled.classes_ is not None else None
    outs = []
    for i, member in enumerate(members):
        x = prep.features(g, member, feeds)
        width = len(member.owners)
        outs.append(estimator.scores(g, member, x, width, prefix=f"m{i}_"))
    if classes is None:
        total = _weighted(g, outs, [np.array([[w]]) for w in weights])
        return g.model(declared, [_output(g, total, "value", 1)], doc)
    placed = [_placement(m.classes_, classes) * w for m, w in zip(members, weights, strict=True)]
    total = _weighted(g, outs, placed)
    if blend and compiled.platt is not None:
        total = estimator.calibrated(g, total, compiled.platt)
    return g.model(declared, [_output(g, total, "probabilities", len(classes))], doc)


def _placement(member_classes: Any, classes: Any) -> np.ndarray:
    """[k_member, k] with a 1 where a member's class sits among the model's classes."""
    columns = np.searchsorted(np.asarray(classes), np.asarray(member_classes))
    out = np.zeros((len(member_classes), len(classes)))
    out[np.arange(len(member_classes)), columns] = 1.0
    return out


def _weighted(g: Graph, outs: list[str], matrices: list[np.ndarray]) -> str:
    if len(outs) == 1 and np.array_equal(matrices[0], np.eye(len(matrices[0]))):
        return outs[0]
    parts = [
        g.op("MatMul", out, g.const(m, "weight")) for out, m in zip(outs, matrices, strict=True)
    ]
    return parts[0] if len(parts) == 1 else g.op("Sum", *parts)


def _output(g: Graph, tensor: str, name: str, width: int) -> onnx.ValueInfoProto:
    g.nodes.append(helper.make_node("Identity", [tensor], [name]))
    return helper.make_tensor_value_info(name, TensorProto.DOUBLE, [None, width])
