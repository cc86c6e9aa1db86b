"""Models scored through their pipeline are explained exactly too: XGBoost's and CatBoost's own
TreeSHAP, shap's TreeExplainer for scikit-learn's forests and histogram boosting. Base plus the
contributions is the model's raw output to 1e-6, and each input comes back as one contribution."""

from __future__ import annotations

import numpy as np
import pytest

from mlrig.components.contract.blend import Blend
from mlrig.components.contract.explain import explain_row, explainer_of, mean_abs
from mlrig.components.contract.explain_through import ThroughPipeline
from mlrig.components.train.core import PlattCalibrated, build_pipeline
from tests.components.contract.test_explain import CATEGORICAL, INPUTS, NUMERIC, _frame, _target

N_CLASSES = {"binary": 2, "multiclass": 3, "regression": 0}


def _fitted(name: str, task: str, frame):
    wide = ["shop"] if name in ("random_forest", "hist_gradient_boosting") else None
    pipe = build_pipeline(name, task, NUMERIC, CATEGORICAL, 0, wide=wide)
    return pipe.fit(frame, _target(frame, task))


def _raw(model, frame, task: str) -> np.ndarray:
    """The model's raw output for each row, asked of the learner itself."""
    x = model[:-1].transform(frame)
    est = model.steps[-1][1]
    name = type(est).__name__
    if task == "regression":
        return model.predict(frame)
    if name.startswith("RandomForest"):
        proba = est.predict_proba(x)
        raw = proba
    elif name == "EarlyStopped" and est.kind == "xgboost":
        from mlrig.components.train.boosters import _whole_codes

        raw = est.model_.predict(_whole_codes(x), output_margin=True)
    elif name == "EarlyStopped":
        raw = est.model_.predict(x, prediction_type="RawFormulaVal")
    else:
        raw = est.decision_function(x)
    raw = np.asarray(raw)
    if raw.ndim == 1:
        return raw
    chosen = np.argmax(model.predict_proba(frame), axis=1)
    return raw[np.arange(len(frame)), chosen]


def _scale(name: str, got: dict) -> float:
    """XGBoost adds in float32: its parts add up to its output to 1e-6 of their size."""
    if name != "xgboost":
        return 1.0
    return max(1.0, abs(got["base"]) + sum(abs(v) for v in got["contributions"].values()))


CASES = [(n, t) for n in ("xgboost", "catboost", "random_forest")
         for t in ("binary", "multiclass", "regression")]  # fmt: skip
CASES += [("hist_gradient_boosting", "binary"), ("hist_gradient_boosting", "regression")]


@pytest.mark.parametrize(("name", "task"), CASES)
def test_base_plus_contributions_is_the_learners_raw_output(name, task):
    pytest.importorskip({"xgboost": "xgboost", "catboost": "catboost"}.get(name, "shap"))
    frame = _frame(400)
    model = _fitted(name, task, frame)
    explainer, why = explainer_of(model, task, INPUTS, CATEGORICAL, N_CLASSES[task])
    assert isinstance(explainer, ThroughPipeline), why
    rows = frame.iloc[:20]
    if name == "random_forest" and task == "binary":  # the forest's leaves hold shares
        expected = model.predict_proba(rows)[:, 1]
    else:
        expected = _raw(model, rows, task)
    for row, want in zip(rows.to_dict("records"), expected, strict=True):
        got = explain_row(explainer, row)
        assert set(got["contributions"]) == set(INPUTS)  # encodings summed back to inputs
        total = got["base"] + sum(got["contributions"].values())
        assert abs(total - want) < 1e-6 * _scale(name, got), got
        assert got["method"].startswith("tree SHAP")


def test_a_calibrated_booster_is_explained_on_its_calibrated_log_odds():
    pytest.importorskip("xgboost")
    frame = _frame(400)
    model = PlattCalibrated(_fitted("xgboost", "binary", frame), 0.7, 0.2)
    explainer, _ = explainer_of(model, "binary", INPUTS, CATEGORICAL, 2)
    rows = frame.iloc[:10]
    margin = _raw(model.model, rows, "binary")  # the booster's log-odds, unrounded by a sigmoid
    for row, want in zip(rows.to_dict("records"), 0.7 * margin + 0.2, strict=True):
        got = explain_row(explainer, row)
        assert got["output"] == "calibrated log-odds"
        assert abs(got["base"] + sum(got["contributions"].values()) - want) < 1e-6 * _scale(
            "xgboost", got
        )


def test_many_rows_at_once_give_each_rows_own_contributions():
    pytest.importorskip("catboost")
    frame = _frame(300)
    model = _fitted("catboost", "regression", frame)
    explainer, _ = explainer_of(model, "regression", INPUTS, CATEGORICAL, 0)
    rows = frame.iloc[:15].to_dict("records")
    together = mean_abs(explainer, rows, INPUTS)
    one_by_one = [explain_row(explainer, row)["contributions"] for row in rows]
    for name in INPUTS:
        mean = np.mean([abs(c[name]) for c in one_by_one])
        assert together["mean_abs"][name] == pytest.approx(mean, abs=1e-9)


@pytest.mark.parametrize(("task", "members"), [
    ("binary", ("lightgbm", "random_forest")),  # a forest's parts are already probability
    ("binary", ("xgboost", "logistic_regression")),
    ("regression", ("xgboost", "ridge")),
])  # fmt: skip
def test_a_blend_with_members_scored_through_their_pipelines_adds_up(task, members):
    pytest.importorskip("xgboost")
    frame = _frame(400)
    fitted = [_fitted(name, task, frame) for name in members]
    blend = Blend(fitted, [0.6, 0.4], task)
    explainer, why = explainer_of(blend, task, INPUTS, CATEGORICAL, N_CLASSES[task])
    assert explainer is not None, why
    rows = frame.iloc[:10]
    expected = blend.predict(rows) if task == "regression" else blend.predict_proba(rows)[:, 1]
    for row, want in zip(rows.to_dict("records"), expected, strict=True):
        got = explain_row(explainer, row)
        assert got["output"] == ("value" if task == "regression" else "probability")
        assert set(got["contributions"]) == set(INPUTS)
        assert abs(got["base"] + sum(got["contributions"].values()) - want) < 1e-6 * max(
            1.0, abs(want)
        ), got
