"""The in-app API (serving/embedded.py): the service's answers in the application's process, with
stored features from the online store or passed in by the application."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from mlrig.components.config.loader import load
from mlrig.serving.embedded import load as embedded
from mlrig.serving.predictor import Predictor, RequestError
from tests.anytable.live import SPEND, request_of, start_live


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    folder = tmp_path_factory.mktemp("embedded")
    config = start_live(folder)
    customers = pd.read_csv(folder / "customers.csv")
    when = pd.Timestamp("2024-09-01", tz="UTC")
    return config, [request_of(customers.iloc[i], when) for i in range(4)]


def test_an_embedded_model_answers_as_the_service_does(shop):
    config, requests = shop
    model, served = embedded(config), Predictor(load(config))
    assert model.version == served.model_version == 1
    for request in requests:
        assert model.predict(request) == served.predict(dict(request))


def test_features_passed_in_take_the_place_of_the_stores(shop):
    config, requests = shop
    model = embedded(config)
    name = SPEND[0]
    low = model.predict(requests[0], features={name: 0.0}, explain=True)
    high = model.predict(requests[0], features={name: 1e6}, explain=True)
    assert low["probability"] != high["probability"]
    assert name not in high["missing_features"]
    assert high["explanation"]["contributions"][name] != low["explanation"]["contributions"][name]
    with pytest.raises(RequestError, match="not a model input") as info:
        model.predict(requests[0], features={"no_such_input": 1.0})
    assert info.value.field == "no_such_input"


def test_a_frame_of_requests_gets_one_answer_per_row_in_order(shop):
    config, requests = shop
    model = embedded(config)
    answers = model.predict_frame(pd.DataFrame(requests))
    assert len(answers) == len(requests)
    for (_, row), request in zip(answers.iterrows(), requests, strict=True):
        assert row["probability"] == pytest.approx(model.predict(request)["probability"], abs=1e-9)


def test_an_exported_model_scored_by_onnxruntime_alone_answers_as_the_service(shop, tmp_path):
    import json

    import onnxruntime
    from typer.testing import CliRunner

    from mlrig.cli import app
    from mlrig.components.contract.to_onnx.export import feeds

    config, requests = shop
    out = tmp_path / "edge"
    done = CliRunner().invoke(
        app, ["model", "export", "1", "--out", str(out), "--config", str(config)]
    )
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert re.search(r"on \d+ holdout rows", said), said
    assert "(largest difference; tolerance 1e-05)" in said
    written = json.loads((out / "contract.json").read_text())
    session = onnxruntime.InferenceSession(str(out / written["onnx"]["model"]))
    served = Predictor(load(config))
    for request in requests:
        one = served.rows.one(request, served.features)  # the request's model inputs
        row = pd.DataFrame([one.inputs])
        got = session.run(None, feeds(row, written["inputs"], written["categorical"]))[0]
        positive = written["classes"].index(written["positive_label"])
        assert got[0, positive] == pytest.approx(served.predict(request)["probability"], abs=1e-5)


def test_an_export_in_another_format_is_refused_by_the_option(shop, tmp_path):
    from typer.testing import CliRunner

    from mlrig.cli import app

    config, _ = shop
    args = [
        "model",
        "export",
        "1",
        "--format",
        "pmml",
        "--out",
        str(tmp_path),
        "--config",
        str(config),
    ]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2 and "--format: 'pmml'" in done.output


def test_exporting_a_version_that_does_not_exist_names_it(shop, tmp_path):
    from typer.testing import CliRunner

    from mlrig.cli import app

    config, _ = shop
    args = ["model", "export", "99", "--out", str(tmp_path / "none"), "--config", str(config)]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 1 and "version 99" in " ".join(done.output.split())
    assert not (tmp_path / "none").exists()
