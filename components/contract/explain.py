"""Why this prediction: each input's contribution to one answer, in the request's and the feature
store's own inputs (a one-hot level, a flag of missing, a target encoding, a text topic are summed
back to the input they encode).

Exact methods, where `base` plus the contributions equals the model's raw output:
- LightGBM: its own TreeSHAP (`pred_contrib`), on log-odds (binary), the predicted class's raw
  score (multiclass) or the value (regression);
- linear models: coefficient x scaled value (numbers centred on their training mean by the
  scaler), on log-odds, the predicted class's logit, or the value;
- a Platt-calibrated binary model: the inner log-odds contributions times the sigmoid's slope, on
  the calibrated log-odds (where the calibration clips the inner probability at 1e-6 from 0 or 1,
  the inner contributions are scaled to reach the clipped log-odds);
- a blend: regression, the weighted sum of its members' contributions on the value; a binary
  blend averages probabilities, so each member's log-odds contributions are rescaled to its change
  of probability from its base (named so in `method`), on the probability.
Models scored through their pipeline (XGBoost, CatBoost, scikit-learn's tree ensembles) are
explained by ThroughPipeline (explain_through.py), exactly too, and a blend of any of these member
by member (MixedBlend; a forest's parts are already shares of the probability). What is left (a
multiclass or calibrated blend, a calibrated forest) gets sampled Shapley values against
background rows (explain_sampled.py), named approximate in `method`. Anything else gets
`method: "unavailable"` and the reason; nothing is approximated without saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mlrig.components.contract.compiled_model import CompiledBlend, CompiledModel, compile_one
from mlrig.components.contract.explain_sampled import Sampled
from mlrig.components.contract.explain_through import ThroughPipeline, calibrated

Explanation = dict[str, Any]


def _grouped(owners: list[str], values: np.ndarray) -> dict[str, float]:
    out: dict[str, float] = {}
    for owner, value in zip(owners, values, strict=True):
        out[owner] = out.get(owner, 0.0) + float(value)
    return out


def _raw_parts(model: CompiledModel, vector: np.ndarray) -> tuple[np.ndarray, float, str]:
    """Per-column contributions, the base, and what they add up to, for the predicted class."""
    if model.booster is not None:
        contrib = np.asarray(model.booster.predict(vector, pred_contrib=True, num_threads=1))[0]
        classes = 1 if model.classes_ is None or len(model.classes_) <= 2 else len(model.classes_)
        if classes == 1:
            kind = "value" if model.classes_ is None else "log-odds"
            return contrib[:-1], float(contrib[-1]), kind
        per_class = contrib.reshape(classes, -1)
        k = int(np.argmax(model.predict_proba(vector)[0]))
        return per_class[k, :-1], float(per_class[k, -1]), f"raw score of class {k}"
    coef, intercept = (
        getattr(model.estimator, "coef_", None),
        getattr(model.estimator, "intercept_", None),
    )
    if coef is None or intercept is None:
        raise LookupError(f"no exact method for {type(model.estimator).__name__}")
    coef, intercept = np.atleast_2d(coef), np.atleast_1d(intercept)
    k = 0
    kind = "value" if model.classes_ is None else "log-odds"
    if coef.shape[0] > 1:  # multiclass logistic regression: one logit per class
        k = int(np.argmax(model.predict_proba(vector)[0]))
        kind = f"logit of class {k}"
    return coef[k] * vector[0], float(intercept[k]), kind


def _one(model: Any, row: dict[str, Any]) -> tuple[dict[str, float], float, str]:
    if isinstance(model, ThroughPipeline | Sampled):
        return model.parts(row)
    parts, base, kind = _raw_parts(model, model.vector(row))
    if model.platt is not None:
        parts, base, kind = calibrated(parts, base, model.platt)
    return _grouped(model.owners, parts), base, kind


def explain_row(
    compiled: CompiledModel | CompiledBlend | ThroughPipeline | None, row: dict[str, Any]
) -> Explanation:
    """The explanation of one model row (model inputs by name), or why there is none."""
    if compiled is None:
        return {"method": "unavailable", "reason": "no exact method for this model"}
    try:
        if isinstance(compiled, CompiledBlend | MixedBlend):
            return _blend(compiled, row)
        contributions, base, kind = _one(compiled, row)
    except LookupError as exc:
        return {"method": "unavailable", "reason": str(exc)}
    if isinstance(compiled, ThroughPipeline | Sampled):
        method = compiled.method
    else:
        method = "tree SHAP (LightGBM pred_contrib)" if compiled.booster is not None else "linear"
    return {"method": method, "output": kind, "base": base, "contributions": contributions}


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


SAMPLED_ROWS = 200  # rows a sampled method averages over (each costs ~2,000 scored rows)


@dataclass
class MixedBlend:
    """A blend whose members are explained each its own way (compiled, or through its pipeline)."""

    members: list[Any]
    weights: list[float]
    task: str
    platt: Any = None


def _blend(blend: CompiledBlend | MixedBlend, row: dict[str, Any]) -> Explanation:
    if blend.task == "multiclass" or blend.platt is not None:
        raise LookupError("no exact method for a multiclass or calibrated blend")
    total: dict[str, float] = {}
    base = 0.0
    for member, weight in zip(blend.members, blend.weights, strict=True):
        parts, member_base, kind = _one(member, row)
        if blend.task == "binary" and not kind.startswith("probability"):  # log-odds -> the
            # member's change of probability (a forest's parts are already shares of it)
            raw = member_base + sum(parts.values())
            moved = _sigmoid(raw) - _sigmoid(member_base)
            scale = moved / (raw - member_base) if raw != member_base else 0.0
            parts = {k: v * scale for k, v in parts.items()}
            member_base = _sigmoid(member_base)
        base += weight * member_base
        for name, value in parts.items():
            total[name] = total.get(name, 0.0) + weight * value
    if blend.task == "binary":
        method = "blend of members' exact contributions, each rescaled to its change of probability"
        return {"method": method, "output": "probability", "base": base, "contributions": total}
    method = "blend: weighted sum of members' exact contributions"
    return {"method": method, "output": "value", "base": base, "contributions": total}


def explainer_of(
    model: Any,
    task: str,
    inputs: list[str],
    categorical: list[str],
    n_classes: int,
    background: Any = None,
) -> tuple[Any, str]:
    """What explains the model: its compiled form (compile_one), else its pipeline explained
    through (ThroughPipeline), a blend member by member (MixedBlend); where none of these is
    exact, sampled Shapley values against background rows (a frame, or a function giving one
    when first needed). None and the reason when there is nothing to explain with."""
    exact, why = _exact(model, task, inputs, categorical, n_classes)
    if exact is not None:
        return exact, ""
    if background is None:
        return None, why
    try:
        rows = background() if callable(background) else background
        return Sampled(model, task, inputs, categorical, n_classes, rows), ""
    except LookupError as exc:
        return None, f"{why}; {exc}"
    except Exception as exc:  # the rows could not be read (a registry down): explain nothing
        return None, f"{why}; no background rows: {type(exc).__name__}: {exc}"


def _exact_through(
    model: Any, task: str, inputs: list[str], categorical: list[str], n_classes: int, why: str
) -> tuple[Any, str]:
    platt = model if type(model).__name__ == "PlattCalibrated" else None
    inner = platt.model if platt is not None else model
    if type(inner).__name__ == "Blend":
        if inner.task == "multiclass" or platt is not None:
            return None, "no exact method for a multiclass or calibrated blend"
        members = []
        for member in inner.members:
            found, reason = _exact(member, task, inputs, categorical, n_classes)
            if found is None:
                return None, reason
            members.append(found)
        return MixedBlend(members, list(inner.weights), inner.task), ""
    try:
        return ThroughPipeline(model, inputs, categorical), ""
    except LookupError as exc:
        return None, f"{why}; {exc}" if why else str(exc)


def _exact(
    model: Any, task: str, inputs: list[str], categorical: list[str], n_classes: int
) -> tuple[Any, str]:
    """An exact explainer: the compiled model, or through the pipeline; else None and why."""
    compiled, why = compile_one(model, task, inputs, categorical, n_classes)
    if compiled is not None and has_exact_method(compiled):
        return compiled, ""
    return _exact_through(model, task, inputs, categorical, n_classes, why)


def has_exact_method(compiled: CompiledModel | CompiledBlend) -> bool:
    """Whether the compiled form has an exact method of its own (LightGBM, linear models; a
    blend of them that is neither multiclass nor calibrated)."""
    if isinstance(compiled, CompiledBlend):
        if compiled.task == "multiclass" or compiled.platt is not None:
            return False
        members = compiled.members
    else:
        members = [compiled]
    return all(m.booster is not None or hasattr(m.estimator, "coef_") for m in members)


def mean_abs(compiled: Any, rows: list[dict[str, Any]], inputs: list[str]) -> Explanation | None:
    """Each input's mean |contribution| over rows (model inputs by name), with the method and
    output of the first row's explanation; None when there are no rows or no exact method."""
    if isinstance(compiled, ThroughPipeline | Sampled) and rows:
        return _mean_abs_through(
            compiled, rows[:SAMPLED_ROWS] if isinstance(compiled, Sampled) else rows, inputs
        )
    totals = dict.fromkeys(inputs, 0.0)
    first: Explanation | None = None
    for row in rows:
        explained = explain_row(compiled, row)
        if explained["method"] == "unavailable":
            return None
        first = first or explained
        for name, value in explained["contributions"].items():
            totals[name] += abs(value) / len(rows)
    if first is None:
        return None
    return {"method": first["method"], "output": first["output"], "mean_abs": totals}


def _mean_abs_through(
    through: ThroughPipeline, rows: list[dict[str, Any]], inputs: list[str]
) -> Explanation | None:
    try:
        parts = through.parts_many(rows)
    except LookupError:
        return None
    totals = dict.fromkeys(inputs, 0.0)
    for grouped, _, _ in parts:
        for name, value in grouped.items():
            totals[name] += abs(value) / len(rows)
    return {"method": through.method, "output": parts[0][2], "mean_abs": totals}
