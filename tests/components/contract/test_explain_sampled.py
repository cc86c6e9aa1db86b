"""Models with no exact method (a multiclass or calibrated blend, a calibrated forest) get sampled
Shapley values against background rows: base plus the contributions is the model's output
exactly, the same row is explained the same way every time, and on an additive model the
estimate is each input's own effect against the background."""

from __future__ import annotations

import numpy as np
import pytest

from mlrig.components.contract.blend import Blend
from mlrig.components.contract.explain import explain_row, explainer_of, mean_abs
from mlrig.components.contract.explain_sampled import ORDERS, Sampled
from mlrig.components.train.core import PlattCalibrated, build_pipeline
from tests.components.contract.test_explain import CATEGORICAL, INPUTS, NUMERIC, _frame, _target


def _fitted(name: str, task: str, frame):
    return build_pipeline(name, task, NUMERIC, CATEGORICAL, 0, wide=["shop"]).fit(
        frame, _target(frame, task)
    )


def test_a_multiclass_blend_is_explained_by_sampling_and_adds_up_to_its_probability():
    frame = _frame(400)
    blend = Blend([_fitted("lightgbm", "multiclass", frame),
                   _fitted("logistic_regression", "multiclass", frame)], [0.5, 0.5], "multiclass")  # fmt: skip
    explainer, why = explainer_of(blend, "multiclass", INPUTS, CATEGORICAL, 3, frame)
    assert isinstance(explainer, Sampled), why
    rows = frame.iloc[:5]
    proba = blend.predict_proba(rows)
    for row, p in zip(rows.to_dict("records"), proba, strict=True):
        got = explain_row(explainer, row)
        k = int(np.argmax(p))
        assert got["output"] == f"probability of class {k}" and "approximate" in got["method"]
        assert set(got["contributions"]) == set(INPUTS)
        assert abs(got["base"] + sum(got["contributions"].values()) - p[k]) < 1e-9
        assert explain_row(explainer, row) == got  # the same orders and background every time


def test_a_calibrated_forest_is_explained_on_its_probability():
    frame = _frame(400)
    model = PlattCalibrated(_fitted("random_forest", "binary", frame), 1.4, -0.2)
    explainer, _ = explainer_of(model, "binary", INPUTS, CATEGORICAL, 2, lambda: frame)
    row = frame.iloc[3].to_dict()
    got = explain_row(explainer, row)
    want = model.predict_proba(frame.iloc[[3]])[0, 1]
    assert got["output"] == "probability"
    assert abs(got["base"] + sum(got["contributions"].values()) - want) < 1e-9


def test_on_an_additive_model_each_input_gets_its_own_effect_against_the_background():
    frame = _frame(400)
    model = PlattCalibrated(_fitted("ridge", "regression", frame), 1.0, 0.0)  # not exact: sampled
    explainer = Sampled(model.model, "regression", INPUTS, CATEGORICAL, 0, frame)
    row = frame.iloc[7].to_dict()
    got = explain_row(explainer, row)["contributions"]
    used = explainer.background.iloc[np.arange(ORDERS) % len(explainer.background)]
    before = model.model.predict(used)
    for name in INPUTS:  # f(background with this one input set to the row's) - f(background)
        switched = used.copy()
        switched[name] = [row[name]] * len(switched)
        assert got[name] == pytest.approx(np.mean(model.model.predict(switched) - before), abs=1e-9)


def test_without_background_rows_there_is_nothing_to_sample_and_it_says_why():
    frame = _frame(300)
    blend = Blend([_fitted("lightgbm", "multiclass", frame),
                   _fitted("logistic_regression", "multiclass", frame)], [0.5, 0.5], "multiclass")  # fmt: skip
    explainer, why = explainer_of(blend, "multiclass", INPUTS, CATEGORICAL, 3)
    assert explainer is None and "multiclass or calibrated blend" in why


def test_a_sampled_mean_is_taken_over_a_bounded_number_of_rows():
    frame = _frame(400)
    model = PlattCalibrated(_fitted("random_forest", "binary", frame), 1.4, -0.2)
    explainer, _ = explainer_of(model, "binary", INPUTS, CATEGORICAL, 2, frame)
    found = mean_abs(explainer, frame.to_dict("records"), INPUTS)
    assert set(found["mean_abs"]) == set(INPUTS) and "approximate" in found["method"]
    assert all(v >= 0 for v in found["mean_abs"].values())


def test_background_rows_that_cannot_be_read_leave_the_answer_unexplained_not_failed():
    frame = _frame(300)
    model = PlattCalibrated(_fitted("random_forest", "binary", frame), 1.4, -0.2)

    def unreachable():
        raise ConnectionError("the registry is down")

    explainer, why = explainer_of(model, "binary", INPUTS, CATEGORICAL, 2, unreachable)
    assert explainer is None and "the registry is down" in why
    assert explain_row(explainer, frame.iloc[0].to_dict())["method"] == "unavailable"
