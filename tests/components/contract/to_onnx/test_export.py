"""A fitted model as one ONNX model: onnxruntime alone gives the pipeline's scores (to 1e-5 for
probabilities) on rows with missing numbers, missing and unseen categories; what has no ONNX form
is refused by name, and nothing is written."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime
import pandas as pd
import pytest

from mlrig.components.contract.blend import Blend
from mlrig.components.contract.contract import Contract
from mlrig.components.contract.to_onnx.export import ExportRefused, export_onnx, feeds
from mlrig.components.train.core import PlattCalibrated, build_pipeline

NUMERIC = ["a", "b"]
CATEGORICAL = ["c", "shop"]
INPUTS = NUMERIC + CATEGORICAL
CLASSES = {"binary": [0, 1], "multiclass": ["low", "mid", "high"], "regression": []}


def _frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n) * 100,
                          "c": rng.choice(["x", "y", "z", None], n),
                          "shop": [f"s{i}" for i in rng.integers(0, 60, n)]})  # fmt: skip
    frame.loc[rng.random(n) < 0.1, "b"] = np.nan
    return frame


def _unseen(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows the model never saw the like of: new shops, a new level, numbers past the range."""
    out = frame.copy()
    out.loc[::3, "shop"] = "s999"
    out.loc[1::5, "c"] = "w"
    out.loc[2::7, "a"] = 1e6
    out.loc[::4, "shop"] = None
    return out


def _target(frame: pd.DataFrame, task: str) -> np.ndarray:
    signal = frame["a"] + (frame["c"] == "x") * 1.5 + frame["shop"].str[1:].astype(int) / 30
    if task == "regression":
        return signal.to_numpy() * 40 + 500
    if task == "binary":
        return (signal > 1).astype(int).to_numpy()
    return np.digitize(signal, [0.5, 1.5])


def _fitted(name: str, task: str, frame: pd.DataFrame, wide: bool = True):
    pipe = build_pipeline(name, task, NUMERIC, CATEGORICAL, 0, wide=["shop"] if wide else None)
    return pipe.fit(frame, _target(frame, task))


def _contract(task: str, inputs: list[str] = INPUTS, categorical: list[str] = CATEGORICAL):
    return Contract(task=task, target="y", request_fields={}, entity_keys={}, derivations=[],
                    date_parts=None, event_time=None, timezone="UTC", features=None,
                    inputs=inputs, categorical=categorical, classes=CLASSES[task])  # fmt: skip


def _onnx_scores(folder, rows: pd.DataFrame, inputs=INPUTS, categorical=CATEGORICAL):
    """What onnxruntime alone gives for rows, reading only the written files."""
    described = json.loads((folder / "contract.json").read_text())["onnx"]
    session = onnxruntime.InferenceSession(str(folder / described["model"]))
    prepared = rows.astype(object).where(rows.notna(), np.nan)
    return session.run([described["output"]], feeds(prepared, inputs, categorical))[0]


def _expected(model, rows: pd.DataFrame, task: str) -> np.ndarray:
    frame = rows.astype({c: object for c in CATEGORICAL}).where(rows.notna(), np.nan)
    if task == "regression":
        return model.predict(frame).reshape(-1, 1)
    return model.predict_proba(frame)


CASES = [(n, t) for n in ("lightgbm", "logistic_regression") for t in ("binary", "multiclass")]
CASES += [("lightgbm", "regression"), ("ridge", "regression")]
CASES += [("random_forest", t) for t in ("binary", "multiclass", "regression")]
CASES += [("hist_gradient_boosting", "binary")]


@pytest.mark.parametrize(("name", "task"), CASES)
def test_onnxruntime_alone_gives_the_pipelines_scores(name, task, tmp_path):
    train, fresh = _frame(), _unseen(_frame(300, seed=1))
    model = _fitted(name, task, train, wide=name != "lightgbm")
    done = export_onnx(model, _contract(task), train.iloc[:200], tmp_path)
    expected = _expected(model, fresh, task)
    tolerance = 1e-5 if task != "regression" else 1e-5 * np.abs(expected).max()
    assert np.abs(_onnx_scores(tmp_path, fresh) - expected).max() <= tolerance
    assert done.rows == 200 and done.largest_difference <= done.tolerance


def test_a_calibrated_blend_is_one_model_with_its_members_weighted():
    train, fresh = _frame(), _unseen(_frame(300, seed=2))
    members = [_fitted("lightgbm", "binary", train, wide=False),
               PlattCalibrated(_fitted("logistic_regression", "binary", train), 1.3, -0.2)]  # fmt: skip
    model = PlattCalibrated(Blend(members, [0.6, 0.4], "binary"), 0.9, 0.1)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        export_onnx(model, _contract("binary"), train, Path(tmp))
        got = _onnx_scores(Path(tmp), fresh)
    assert np.abs(got - _expected(model, fresh, "binary")).max() <= 1e-5


def test_the_contract_beside_the_model_says_how_to_feed_it(tmp_path):
    train = _frame()
    export_onnx(_fitted("lightgbm", "binary", train, wide=False), _contract("binary"), train,
                tmp_path)  # fmt: skip
    written = json.loads((tmp_path / "contract.json").read_text())
    assert written["inputs"] == INPUTS and written["task"] == "binary"
    assert written["onnx"]["inputs"] == {"a": "double", "b": "double", "c": "string",
                                         "shop": "string"}  # fmt: skip
    assert written["onnx"]["missing"] == {"double": "NaN", "string": ""}
    assert written["onnx"]["threshold"] == 0.5


def test_free_text_topics_are_refused_by_their_column_and_nothing_is_written(tmp_path):
    frame = _frame(400).assign(note=lambda f: np.where(f["a"] > 0, "late again", "all fine"))
    y = (frame["a"] > 0).astype(int).to_numpy()
    model = build_pipeline("lightgbm", "binary", NUMERIC, ["c", "note"], 0, text=["note"])
    contract = _contract("binary", [*NUMERIC, "c", "note"], ["c", "note"])
    with pytest.raises(ExportRefused, match="text topics of 'note'"):
        export_onnx(model.fit(frame, y), contract, frame, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_learner_scored_through_its_pipeline_is_refused_by_name(tmp_path):
    pytest.importorskip("xgboost")
    train = _frame()
    model = _fitted("xgboost", "binary", train, wide=False)
    with pytest.raises(ExportRefused, match="XGBoost"):
        export_onnx(model, _contract("binary"), train, tmp_path)


def test_an_empty_text_category_is_refused_because_it_marks_missing(tmp_path):
    train = _frame().assign(c=lambda f: f["c"].replace({"z": ""}))
    model = _fitted("logistic_regression", "binary", train)
    with pytest.raises(ExportRefused, match="'c' has the empty text as a category"):
        export_onnx(model, _contract("binary"), train, tmp_path)
