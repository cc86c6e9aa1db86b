"""Answers with their reasons: `explain` on /predict's path and /predict_batch's gives each model
input's contribution (request fields and the feature store's own features), adding up to the
answer, the same on both paths, and nothing when not asked."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from mlrig.cli import app
from mlrig.components.config.loader import load
from mlrig.serving.predictor import Predictor, prediction_log
from tests.anytable.live import request_of, start_live


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    config = start_live(folder)
    customers = pd.read_csv(folder / "customers.csv")
    requests = [
        request_of(customers.iloc[i], pd.Timestamp("2024-09-01", tz="UTC")) for i in range(5)
    ]
    loaded = load(config)
    return Predictor(loaded, log=prediction_log(loaded)), requests


def _probability_of(explanation: dict) -> float:
    """The probability the contributions add up to, on the scale they are given in."""
    total = explanation["base"] + sum(explanation["contributions"].values())
    return total if explanation["output"] == "probability" else 1 / (1 + math.exp(-total))


def test_an_explained_answer_adds_up_to_its_probability_in_the_models_own_inputs(predictor):
    model, requests = predictor
    for request in requests:
        answer = model.predict(dict(request), explain=True)
        explanation = answer["explanation"]
        assert set(explanation["contributions"]) == set(model.contract.inputs)
        assert any(name.startswith("spend__") for name in explanation["contributions"])
        # answers round probabilities to 6 places (compared on the log-odds, a probability of
        # 0.0037 rounded so is 1e-4 away: contract/test_explain.py checks them unrounded)
        assert _probability_of(explanation) == pytest.approx(answer["probability"], abs=1e-6)


def test_the_batch_path_explains_each_row_as_the_one_row_path_does(predictor):
    model, requests = predictor
    ones = [model.predict(dict(r), explain=True)["explanation"] for r in requests]
    asked = [i % 2 == 0 for i in range(len(requests))]
    many = model.predict_many([dict(r) for r in requests], asked)
    for one, answer, wanted in zip(ones, many, asked, strict=True):
        if not wanted:
            assert "explanation" not in answer
            continue
        got = answer["explanation"]
        assert got["method"] == one["method"] and got["base"] == pytest.approx(one["base"])
        for name, value in one["contributions"].items():
            assert got["contributions"][name] == pytest.approx(value, abs=1e-9), name


def test_an_answer_not_asked_to_explain_has_no_explanation(predictor):
    model, requests = predictor
    assert "explanation" not in model.predict(dict(requests[0]))


def test_mlrig_explain_of_a_logged_request_is_the_live_answers_explanation(predictor):
    model, requests = predictor
    answer = model.predict(dict(requests[1]), explain=True)
    config = str(model.loaded.root / "mlrig.yaml")
    said = CliRunner().invoke(app, ["explain", answer["request_id"], "-c", config, "--json"])
    assert said.exit_code == 0, said.output
    logged = json.loads(said.output)
    assert logged["model_version"] == answer["model_version"]
    assert logged["explanation"]["method"] == answer["explanation"]["method"]
    for name, value in answer["explanation"]["contributions"].items():
        assert logged["explanation"]["contributions"][name] == pytest.approx(value, abs=1e-12)
    text = CliRunner().invoke(app, ["explain", answer["request_id"], "-c", config])
    assert text.exit_code == 0 and answer["explanation"]["method"] in " ".join(text.output.split())


def test_mlrig_explain_of_an_unknown_request_id_says_so(predictor):
    model, _ = predictor
    config = str(model.loaded.root / "mlrig.yaml")
    said = CliRunner().invoke(app, ["explain", "no-such-id", "-c", config])
    assert said.exit_code == 1
    assert "request_id: request_id 'no-such-id' is not in the prediction log" in " ".join(
        said.output.split()
    )
