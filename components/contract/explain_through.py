"""Exact contributions of models scored through their pipeline (compiled_model.py does not
compile them): the pipeline's preprocessing runs on the one row, then the learner's own TreeSHAP:
XGBoost's `pred_contribs`, CatBoost's `ShapValues`, and for scikit-learn's forests and histogram
gradient boosting, the shap package's TreeExplainer (pip install "mlrig[explain]"). Encoded
columns are summed back to the input each came from, read from the ColumnTransformer's own
output slices. Outputs: log-odds (binary boosters), the predicted class's raw score (multiclass),
the positive class's probability (forests, whose leaves hold shares), or the value."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.contract.assemble import model_frame

CLIP_LOGIT = float(np.log((1 - 1e-6) / 1e-6))  # PlattCalibrated reads p within [1e-6, 1 - 1e-6]
SHAP_TREES = ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
              "ExtraTreesRegressor", "HistGradientBoostingClassifier",
              "HistGradientBoostingRegressor")  # fmt: skip


def calibrated(parts: np.ndarray, base: float, platt: Any) -> tuple[np.ndarray, float, str]:
    """Log-odds contributions through a Platt sigmoid: logit(calibrated) = a * logit(p) + b,
    p clipped to 1e-6 from 0 and 1 (the parts shrink where the model's output stops)."""
    a, b = platt.a, platt.b
    raw = base + float(parts.sum())
    clipped = min(max(raw, -CLIP_LOGIT), CLIP_LOGIT)
    if clipped != raw and raw != base:
        parts = parts * ((clipped - base) / (raw - base))
    elif clipped != raw:
        base = clipped
    return a * parts, a * base + b, "calibrated log-odds"


def owners_of(prep: Any) -> list[str]:
    """The input each encoded column comes from, in the preprocessing's output order."""
    steps = getattr(prep, "steps", None)
    ct = steps[0][1] if steps else prep
    if type(ct).__name__ != "ColumnTransformer":
        raise LookupError(f"no exact method through preprocessing {type(ct).__name__}")
    owners: list[str] = []
    for name, _, columns in ct.transformers_:
        part = ct.output_indices_.get(name, slice(0, 0))
        width = part.stop - part.start
        if width == 0:
            continue
        columns = list(columns)
        if width % len(columns):
            raise LookupError(f"no exact method: the outputs of '{name}' are not per input")
        owners += [c for c in columns for _ in range(width // len(columns))]
    return owners


class ThroughPipeline:
    """Explains one model row (model inputs by name) through the fitted pipeline."""

    def __init__(self, model: Any, inputs: list[str], categorical: list[str]) -> None:
        self.platt = None
        if type(model).__name__ == "PlattCalibrated":
            self.platt, model = model, model.model
        steps = getattr(model, "steps", None)
        if not steps or len(steps) != 2:
            raise LookupError(f"no exact method for {type(model).__name__}")
        self.prep, self.estimator = steps[0][1], steps[1][1]
        self.inputs, self.categorical = inputs, categorical
        self.owners = owners_of(self.prep)
        kind = type(self.estimator).__name__
        if kind == "EarlyStopped":
            own = (
                "XGBoost pred_contribs"
                if self.estimator.kind == "xgboost"
                else "CatBoost ShapValues"
            )
            self.method = f"tree SHAP ({own})"
        elif kind in SHAP_TREES:
            self._shap = _tree_explainer(self.estimator)
            self.method = "tree SHAP (shap TreeExplainer)"
        else:
            raise LookupError(f"no exact method for {kind}")
        if self.platt is not None and kind.startswith(("RandomForest", "ExtraTrees")):
            raise LookupError("no exact method for a calibrated forest (its parts are shares)")

    def parts(self, row: dict[str, Any]) -> tuple[dict[str, float], float, str]:
        return self.parts_many([row])[0]

    def parts_many(self, rows: list[dict[str, Any]]) -> list[tuple[dict[str, float], float, str]]:
        """parts() of many rows with one preprocessing and one SHAP call."""
        frame = model_frame(pd.DataFrame(rows, columns=self.inputs), self.inputs, self.categorical)
        x = self.prep.transform(frame)
        if x.shape[1] != len(self.owners):
            raise LookupError("the preprocessing's columns are not its inputs'")
        out = []
        for contrib, kind in self._contributions(x):
            parts, base = contrib[:-1], float(contrib[-1])
            if self.platt is not None:
                parts, base, kind = calibrated(parts, base, self.platt)
            grouped: dict[str, float] = {}
            for owner, value in zip(self.owners, parts, strict=True):
                grouped[owner] = grouped.get(owner, 0.0) + float(value)
            out.append((grouped, base, kind))
        return out

    def _contributions(self, x: Any) -> list[tuple[np.ndarray, str]]:
        """Each row's per-column contributions with the base last, for its predicted class."""
        est = self.estimator
        name = type(est).__name__
        boosted = name == "EarlyStopped"
        values = _booster_shap(est, x) if boosted else _forest_shap(self._shap, x)
        shares = name.startswith(("RandomForest", "ExtraTrees"))  # leaves hold class shares
        if values.ndim == 2:  # one output: binary or regression
            classifier = est.task != "regression" if boosted else hasattr(est, "classes_")
            kind = "value" if not classifier else "log-odds"
            kind = "probability of the positive class" if classifier and shares else kind
            return [(v, kind) for v in values]
        chosen = np.argmax(est.predict_proba(x), axis=1)
        what = "probability" if shares else "raw score"
        return [(values[i, k], f"{what} of class {k}") for i, k in enumerate(chosen)]


def _booster_shap(est: Any, x: pd.DataFrame) -> np.ndarray:
    """XGBoost's or CatBoost's own SHAP values (EarlyStopped.contributions, in train/boosters.py):
    [rows, n + 1] or [rows, classes, n + 1]."""
    return np.asarray(est.contributions(x))


def _tree_explainer(estimator: Any) -> Any:
    try:
        import shap
    except ImportError:
        raise LookupError(
            'tree SHAP of scikit-learn trees needs the shap package (pip install "mlrig[explain]")'
        ) from None
    return shap.TreeExplainer(estimator)


def _forest_shap(explainer: Any, x: Any) -> np.ndarray:
    """shap's values with the base last: [rows, n + 1] or [rows, classes, n + 1]; a binary
    forest's positive class only."""
    values = np.asarray(explainer.shap_values(np.asarray(x, dtype=float), check_additivity=False))
    base = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))
    rows = values.shape[0]
    if values.ndim == 3:  # [rows, columns, outputs]
        if values.shape[2] == 2:  # a binary forest: the positive class's share
            return np.column_stack([values[:, :, 1], np.full(rows, base[1])])
        with_base = np.concatenate([values, np.broadcast_to(base, (rows, 1, len(base)))], axis=1)
        return with_base.transpose(0, 2, 1)
    return np.column_stack([values, np.full(rows, base[0])])
