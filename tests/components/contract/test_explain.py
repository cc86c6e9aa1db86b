"""Each input's contribution to one answer: base plus the contributions is the model's raw output
(to 1e-6) for every exact method, and an encoded input comes back as the one input it encodes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlrig.components.contract.blend import Blend
from mlrig.components.contract.compiled_model import compile_one
from mlrig.components.contract.explain import explain_row
from mlrig.components.train.core import PlattCalibrated, build_pipeline

NUMERIC = ["a", "b"]
CATEGORICAL = ["c", "shop"]
INPUTS = NUMERIC + CATEGORICAL


def _frame(n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                          "c": rng.choice(["x", "y", "z", None], n),
                          "shop": [f"s{i}" for i in rng.integers(0, 60, n)]})  # fmt: skip
    frame.loc[rng.random(n) < 0.1, "b"] = np.nan
    frame["c"] = frame["c"].where(frame["c"].notna(), np.nan)  # as assemble() gives a missing one
    return frame


def _target(frame: pd.DataFrame, task: str) -> np.ndarray:
    signal = frame["a"] + (frame["c"] == "x") * 1.5 + frame["shop"].str[1:].astype(int) / 30
    if task == "regression":
        return signal.to_numpy()
    if task == "binary":
        return (signal > 1).astype(int).to_numpy()
    return np.digitize(signal, [0.5, 1.5])


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def _raw(model, frame: pd.DataFrame, task: str, name: str) -> np.ndarray:
    """The model's raw output for each row, from the model itself."""
    if isinstance(model, PlattCalibrated):
        return _logit(model.predict_proba(frame)[:, 1])
    if isinstance(model, Blend):
        return model.predict(frame) if task == "regression" else model.predict_proba(frame)[:, 1]
    if name == "lightgbm":
        x = model[:-1].transform(frame)
        raw = model.steps[-1][1].predict(x, raw_score=True)
    else:
        raw = model.decision_function(frame) if task != "regression" else model.predict(frame)
    if task == "multiclass":  # the predicted class's score
        return raw[np.arange(len(frame)), np.argmax(model.predict_proba(frame), axis=1)]
    return raw


def _fitted(name: str, task: str, frame: pd.DataFrame):
    wide = None if name == "lightgbm" else ["shop"]  # 60 shops: target-encoded
    return build_pipeline(name, task, NUMERIC, CATEGORICAL, 0, wide=wide).fit(
        frame, _target(frame, task)
    )


def _additive(model, task: str, name: str, frame: pd.DataFrame) -> tuple[dict, float]:
    compiled, why = compile_one(model, task, INPUTS, CATEGORICAL, 3 if task == "multiclass" else 2)
    assert compiled is not None, why
    rows = frame.iloc[:25]
    raw = _raw(model, rows, task, name)
    for row, expected in zip(rows.to_dict("records"), raw, strict=True):
        got = explain_row(compiled, row)
        assert abs(got["base"] + sum(got["contributions"].values()) - expected) < 1e-6, got
    return got, expected


CASES = [(n, t) for n in ("lightgbm", "logistic_regression") for t in ("binary", "multiclass")]
CASES += [("lightgbm", "regression"), ("ridge", "regression")]


@pytest.mark.parametrize(("name", "task"), CASES)
def test_base_plus_contributions_is_the_raw_output_of_every_exact_method(name, task):
    frame = _frame()
    got, _ = _additive(_fitted(name, task, frame), task, name, frame)
    assert set(got["contributions"]) == set(INPUTS)  # one per input: levels and encodings summed
    assert got["method"] == (
        "tree SHAP (LightGBM pred_contrib)" if name == "lightgbm" else "linear"
    )


def test_a_calibrated_model_is_explained_on_its_calibrated_log_odds():
    frame = _frame()
    model = PlattCalibrated(_fitted("lightgbm", "binary", frame), 0.8, -0.3)
    got, _ = _additive(model, "binary", "lightgbm", frame)
    assert got["output"] == "calibrated log-odds"


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_a_blend_adds_up_to_its_probability_or_value(task):
    frame = _frame()
    linear = "logistic_regression" if task == "binary" else "ridge"
    model = Blend(
        [_fitted("lightgbm", task, frame), _fitted(linear, task, frame)], [0.7, 0.3], task
    )
    got, _ = _additive(model, task, "blend", frame)
    assert got["output"] == ("probability" if task == "binary" else "value")
    assert set(got["contributions"]) == set(INPUTS)


def test_one_hot_levels_and_a_target_encoding_come_back_as_their_inputs():
    frame = _frame()
    model = _fitted("logistic_regression", "binary", frame)
    compiled, _ = compile_one(model, "binary", INPUTS, CATEGORICAL, 2)
    assert len(compiled.owners) > len(INPUTS)  # several encoded columns per input
    row = frame.iloc[0].to_dict()
    got = explain_row(compiled, row)["contributions"]
    # the shop's share is its target encoding's coefficient times its encoded value
    encoded = compiled.vector(row)[0]
    shop = [i for i, owner in enumerate(compiled.owners) if owner == "shop"]
    coef = model.steps[-1][1].coef_[0]
    assert got["shop"] == pytest.approx(float(coef[shop] @ encoded[shop]), abs=1e-12)


def test_a_text_input_comes_back_as_one_contribution():
    frame = _frame(400).assign(
        note=lambda f: np.where(f["a"] > 0, "late again sorry", "all fine thanks")
    )
    y = (frame["a"] > 0).astype(int).to_numpy()
    model = build_pipeline("lightgbm", "binary", NUMERIC, ["c", "note"], 0, text=["note"]).fit(
        frame, y
    )
    compiled, why = compile_one(model, "binary", [*NUMERIC, "c", "note"], ["c", "note"], 2)
    assert compiled is not None, why
    got = explain_row(compiled, frame.iloc[0].to_dict())
    assert set(got["contributions"]) == {"a", "b", "c", "note"}


def test_a_model_without_an_exact_method_says_so_and_approximates_nothing():
    frame = _frame()
    model = build_pipeline("random_forest", "binary", NUMERIC, CATEGORICAL, 0).fit(
        frame, _target(frame, "binary")
    )
    compiled, _ = compile_one(model, "binary", INPUTS, CATEGORICAL, 2)
    got = explain_row(compiled, frame.iloc[0].to_dict())
    assert got["method"] == "unavailable" and "RandomForestClassifier" in got["reason"]
    assert explain_row(None, {})["method"] == "unavailable"
