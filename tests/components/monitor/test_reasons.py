"""Explanation drift: an input whose share of the answers' contributions moved is named, and a
model whose reasons moved while no input drifted is flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlrig.components.contract.contract import Contract
from mlrig.components.monitor.reasons import check, section
from mlrig.components.train.core import PlattCalibrated, build_pipeline

INPUTS = ["a", "b", "switch"]


def _rows(n: int, on_share: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                         "switch": np.where(rng.random(n) < on_share, "on", "off")})  # fmt: skip


def _model_and_contract() -> tuple[object, Contract]:
    """The answer follows a when the switch is on, b when it is off."""
    train = _rows(2000, 0.5, 0)
    y = np.where(train["switch"] == "on", train["a"] > 0, train["b"] > 0).astype(int)
    model = build_pipeline("lightgbm", "binary", ["a", "b"], ["switch"], 0).fit(train, y)
    contract = Contract(task="binary", target="y", request_fields={}, entity_keys={},
                        derivations=[], date_parts=None, event_time=None, timezone="UTC",
                        features=None, inputs=INPUTS, categorical=["switch"], classes=[0, 1])  # fmt: skip
    return model, contract


def test_requests_like_the_reference_move_no_reason():
    model, contract = _model_and_contract()
    result = check(model, contract, _rows(800, 0.5, 1), _rows(800, 0.5, 2), 0.05, [])
    assert result["moved"] == [] and not result["reasons_moved_inputs_stable"]
    assert abs(sum(s["current"] for s in result["shares"].values()) - 1) < 1e-9


def test_a_model_leaning_on_another_input_names_it_and_is_flagged_when_no_input_drifted():
    model, contract = _model_and_contract()
    result = check(model, contract, _rows(800, 0.5, 1), _rows(800, 0.95, 2), 0.05, [])
    assert {"a", "b"} <= set(result["moved"])
    assert result["shares"]["a"]["current"] > result["shares"]["a"]["reference"]
    assert result["reasons_moved_inputs_stable"]
    assert section(result)["flag"] == "the model's reasons moved while no input drifted"
    drifted = check(model, contract, _rows(800, 0.5, 1), _rows(800, 0.95, 2), 0.05, ["switch"])
    assert not drifted["reasons_moved_inputs_stable"]  # the switch's own drift explains it


def test_a_model_without_an_exact_method_is_compared_on_sampled_contributions():
    train = _rows(500, 0.5, 0)
    y = (train["a"] > 0).astype(int)
    forest = build_pipeline("random_forest", "binary", ["a", "b"], ["switch"], 0).fit(train, y)
    model = PlattCalibrated(forest, 1.2, 0.1)  # a calibrated forest: no exact method
    _, contract = _model_and_contract()
    result = check(model, contract, train, train, 0.05, [])
    assert "approximate" in result["method"] and result["moved"] == []
    assert result["shares"]["a"]["reference"] > 0.5  # the forest follows a


def test_with_no_reference_rows_to_sample_against_it_says_so():
    train = _rows(500, 0.5, 0)
    forest = build_pipeline("random_forest", "binary", ["a", "b"], ["switch"], 0)
    model = PlattCalibrated(forest.fit(train, (train["a"] > 0).astype(int)), 1.2, 0.1)
    _, contract = _model_and_contract()
    result = check(model, contract, train.iloc[:0], train, 0.05, [])
    assert result["method"] == "unavailable" and result["moved"] == []
