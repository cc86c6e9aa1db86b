"""The in-app API (serving/embedded.py): the service's answers in the application's process, with
stored features from the online store or passed in by the application."""

from __future__ import annotations

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
