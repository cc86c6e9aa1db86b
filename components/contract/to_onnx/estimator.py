"""A compiled model's estimator as ONNX nodes on its encoded columns: LightGBM through
onnxmltools' converter, linear models as their own arithmetic, random forests as their trees
(forest.py), other scikit-learn estimators through skl2onnx (checked like the rest). Classifiers
give class probabilities [N, k], regressors values [N, 1] (doubles); a Platt-calibrated model's
sigmoid follows."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlrig.components.contract.compiled_model import CompiledModel
from mlrig.components.contract.to_onnx.forest import FORESTS, forest
from mlrig.components.contract.to_onnx.graph import OPSET, Graph
from mlrig.components.contract.to_onnx.prep import CannotConvert

CLIP = 1e-6  # PlattCalibrated reads p within [1e-6, 1 - 1e-6] (train/core.py)


def scores(g: Graph, member: CompiledModel, x: str, width: int, prefix: str) -> str:
    """Probabilities (classifiers) or values (regressors) of the encoded columns x."""
    estimator = member.estimator
    if member.booster is not None:
        out = _lightgbm(g, estimator, x, width, prefix)
    elif hasattr(estimator, "coef_") and hasattr(estimator, "intercept_"):
        out = _linear(g, estimator, x, member.classes_ is not None)
    elif type(estimator).__name__ in FORESTS:
        out = forest(g, estimator, x, member.classes_ is not None)
    else:
        out = _sklearn(g, estimator, x, width, prefix)
    return out if member.platt is None else calibrated(g, out, member.platt)


def _lightgbm(g: Graph, estimator: Any, x: str, width: int, prefix: str) -> str:
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    try:
        model = convert_lightgbm(
            estimator, initial_types=[("x", FloatTensorType([None, width]))],
            zipmap=False, target_opset=OPSET,
        )  # fmt: skip
    except Exception as exc:
        raise CannotConvert(f"the LightGBM model: {type(exc).__name__}: {exc}") from exc
    return _spliced(g, model, x, prefix)


def _linear(g: Graph, estimator: Any, x: str, classifier: bool) -> str:
    coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=float))
    logits = g.op("Add", g.op("MatMul", x, g.const(coef.T, "coef")),
                  g.const(np.atleast_1d(estimator.intercept_), "intercept"))  # fmt: skip
    if not classifier:
        return logits
    if coef.shape[0] == 1:  # binary: one logit
        p = g.op("Sigmoid", logits)
        return g.op("Concat", g.op("Sub", g.const([[1.0]], "one"), p), p, axis=1)
    return g.op("Softmax", logits, axis=1)


def _sklearn(g: Graph, estimator: Any, x: str, width: int, prefix: str) -> str:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    name = type(estimator).__name__
    try:
        options = {id(estimator): {"zipmap": False}} if hasattr(estimator, "classes_") else None
        model = convert_sklearn(
            estimator, initial_types=[("x", FloatTensorType([None, width]))],
            options=options, target_opset={"": OPSET, "ai.onnx.ml": 3},
        )  # fmt: skip
    except Exception as exc:
        raise CannotConvert(f"the model step {name}: {type(exc).__name__}: {exc}") from exc
    return _spliced(g, model, x, prefix)


def _spliced(g: Graph, model: Any, x: str, prefix: str) -> str:
    """A converter's model fed x as floats: its probabilities, or its values, as doubles."""
    outputs = g.splice(model, {"x": g.op("Cast", x, to=1)}, prefix)  # 1: float
    return g.double(outputs["probabilities"] if "probabilities" in outputs else outputs["variable"])


def calibrated(g: Graph, proba: str, platt: Any) -> str:
    """PlattCalibrated: q = sigmoid(a * logit(p) + b), p held to [CLIP, 1 - CLIP]."""
    p = g.op("Gather", proba, g.const([1], "positive"), axis=1)
    p = g.op("Min", g.op("Max", p, g.const(CLIP, "clip")), g.const(1 - CLIP, "clip"))
    logit = g.op("Log", g.op("Div", p, g.op("Sub", g.const(1.0, "one"), p)))
    z = g.op("Add", g.op("Mul", logit, g.const(platt.a, "a")), g.const(platt.b, "b"))
    q = g.op("Sigmoid", z)
    return g.op("Concat", g.op("Sub", g.const([[1.0]], "one"), q), q, axis=1)
