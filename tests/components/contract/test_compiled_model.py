"""The compiled one-row model against its fitted pipeline: every candidate train builds, for every
task, on rows with missing numbers, rare (infrequent) categories, unseen and missing categories,
and a categorical of many levels (target-encoded)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from mlrig.components.contract.compiled_model import UNSEEN, CompiledModel, compile_one
from mlrig.components.contract.metrics import scores
from mlrig.components.train.core import PlattCalibrated, build_pipeline, wide_categoricals

NUMERIC = ["x", "y", "mostly_missing"]
CATEGORICAL = ["colour", "size", "shop"]
INPUTS = ["x", "colour", "y", "size", "mostly_missing", "shop"]


def _frame(n: int, seed: int, unseen: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    colours = np.array(["red", "green", "blue"] + [f"rare{i}" for i in range(6)], dtype=object)
    p = np.array([0.4, 0.3, 0.2] + [0.1 / 6] * 6)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "colour": rng.choice(colours, size=n, p=p),
            "y": rng.gamma(2.0, 3.0, size=n),
            "size": rng.choice(np.array(["s", "m", "l"], dtype=object), size=n),
            "mostly_missing": np.where(rng.random(n) < 0.97, np.nan, rng.normal(size=n)),
            "shop": rng.choice(np.array([f"shop{i}" for i in range(60)], dtype=object), size=n),
        },
        columns=INPUTS,
    )
    frame.loc[frame.sample(frac=0.1, random_state=seed).index, "x"] = np.nan
    frame.loc[frame.sample(frac=0.1, random_state=seed + 1).index, "colour"] = np.nan
    if unseen:
        frame.loc[frame.sample(frac=0.2, random_state=seed + 2).index, "size"] = UNSEEN[:3] + "xl"
    frame["colour"] = frame["colour"].astype(object)
    frame["size"] = frame["size"].astype(object)
    if unseen:
        frame.loc[frame.sample(frac=0.1, random_state=seed + 3).index, "shop"] = "shop-new"
    frame.loc[frame.sample(frac=0.05, random_state=seed + 4).index, "shop"] = np.nan
    return frame


def _target(frame: pd.DataFrame, task: str) -> np.ndarray:
    signal = np.nan_to_num(frame.x) + (frame.colour == "red") - 0.1 * frame.y
    signal = signal + frame.shop.isin(["shop1", "shop7", "shop9"])
    if task == "regression":
        return signal.to_numpy(dtype=float)
    if task == "binary":
        return (signal > signal.median()).astype(int).to_numpy()
    return np.digitize(signal, np.quantile(signal, [0.33, 0.66]))


CASES = [
    (name, task)
    for name in (
        "logistic_regression",
        "ridge",
        "hist_gradient_boosting",
        "random_forest",
        "lightgbm",
    )  # fmt: skip
    for task in ("binary", "multiclass", "regression")
    if not (name == "logistic_regression" and task == "regression")
    and not (name == "ridge" and task != "regression")
]


@pytest.mark.parametrize(("name", "task"), CASES)
def test_compiled_scores_equal_the_pipeline(name, task):
    train = _frame(400, seed=0)
    small = {"n_estimators": 20, "n_jobs": 1} if name == "random_forest" else {}  # fast
    wide = wide_categoricals(train, CATEGORICAL)
    assert wide == ["shop"]
    pipe = build_pipeline(name, task, NUMERIC, CATEGORICAL, seed=0, params=small, wide=wide)
    pipe.fit(train, _target(train, task))
    n_classes = 0 if task == "regression" else (2 if task == "binary" else 3)
    compiled, why = compile_one(pipe, task, INPUTS, CATEGORICAL, n_classes)
    assert compiled is not None, why
    rows = _frame(150, seed=5, unseen=True)
    expected = scores(pipe, rows, task, n_classes)
    got = np.concatenate(
        [scores(compiled, compiled.vector(r), task, n_classes) for r in rows.to_dict("records")]
    )
    np.testing.assert_allclose(got, np.asarray(expected).reshape(got.shape), rtol=1e-9, atol=1e-12)


def test_a_calibrated_model_compiles_with_its_sigmoid():
    train = _frame(400, seed=0)
    pipe = build_pipeline("lightgbm", "binary", NUMERIC, CATEGORICAL, seed=0)
    model = PlattCalibrated(pipe.fit(train, _target(train, "binary")), a=0.7, b=-0.2)
    compiled, why = compile_one(model, "binary", INPUTS, CATEGORICAL, 2)
    assert compiled is not None, why
    rows = _frame(50, seed=3, unseen=True)
    got = np.concatenate(
        [compiled.predict_proba(compiled.vector(r)) for r in rows.to_dict("records")]
    )
    np.testing.assert_allclose(got, model.predict_proba(rows), rtol=1e-9)


def test_a_pipeline_it_does_not_know_is_not_compiled():
    train = _frame(100, seed=0)
    pipe = build_pipeline("ridge", "regression", NUMERIC, CATEGORICAL, seed=0)
    custom = Pipeline([("prep", FunctionTransformer(lambda x: x[["x", "y"]].fillna(0))),
                       ("model", pipe.steps[1][1])])  # fmt: skip
    custom.fit(train, _target(train, "regression"))
    compiled, why = compile_one(custom, "regression", INPUTS, CATEGORICAL, 0)
    assert compiled is None and "FunctionTransformer" in why


def test_a_compiled_model_that_disagrees_with_its_pipeline_is_refused(monkeypatch):
    train = _frame(200, seed=0)
    pipe = build_pipeline("logistic_regression", "binary", NUMERIC, CATEGORICAL, seed=0)
    pipe.fit(train, _target(train, "binary"))
    assert compile_one(pipe, "binary", INPUTS, CATEGORICAL, 2)[0] is not None
    vector = CompiledModel.vector

    def off_by_a_little(self, row):  # a compiled lookup that drifted from the pipeline
        values = vector(self, row)
        values[0, 0] += 0.01
        return values

    monkeypatch.setattr(CompiledModel, "vector", off_by_a_little)
    compiled, why = compile_one(pipe, "binary", INPUTS, CATEGORICAL, 2)
    assert compiled is None and "differ" in why
