"""A small builder of ONNX graphs: named constants, one-output nodes, and other ONNX models
spliced in under a prefix of their own."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 15  # the default domain; the highest onnxmltools' LightGBM converter writes
ML_OPSET = 2  # ai.onnx.ml: LabelEncoder with string keys and a default


class Graph:
    """Nodes and constants of one graph, each tensor named uniquely."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.constants: list[onnx.TensorProto] = []
        self.opsets: dict[str, int] = {"": OPSET, "ai.onnx.ml": ML_OPSET}
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value: Any, hint: str = "c") -> str:
        """A constant tensor (floats as doubles, ints as int64)."""
        array = np.asarray(value)
        if array.dtype.kind == "f":
            array = array.astype(np.float64)
        elif array.dtype.kind in "iub":
            array = array.astype(np.int64)
        name = self.name(hint)
        self.constants.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, domain: str = "", **attrs: Any) -> str:
        """One node with one output; returns the output's name."""
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], domain=domain, **attrs))
        return out

    def double(self, tensor: str) -> str:
        return self.op("Cast", tensor, to=TensorProto.DOUBLE)

    def splice(self, model: onnx.ModelProto, feeds: dict[str, str], prefix: str) -> dict[str, str]:
        """Add another model's graph, its inputs fed by our tensors; returns its outputs' names
        (unprefixed name -> our tensor)."""
        model = onnx.compose.add_prefix(model, prefix)
        for name, tensor in feeds.items():
            self.nodes.append(helper.make_node("Identity", [tensor], [prefix + name]))
        self.nodes.extend(model.graph.node)
        self.constants.extend(model.graph.initializer)
        for opset in model.opset_import:
            self.opsets[opset.domain] = max(self.opsets.get(opset.domain, 0), opset.version)
        return {o.name[len(prefix) :]: o.name for o in model.graph.output}

    def model(
        self, inputs: list[onnx.ValueInfoProto], outputs: list[onnx.ValueInfoProto], doc: str
    ) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, "mlrig", inputs, outputs, self.constants)
        opsets = [helper.make_opsetid(d, v) for d, v in sorted(self.opsets.items())]
        model = helper.make_model(graph, opset_imports=opsets, doc_string=doc)
        model.ir_version = min(model.ir_version, 8)  # what onnxruntime of 2023 on reads
        onnx.checker.check_model(model, full_check=True)
        return model
