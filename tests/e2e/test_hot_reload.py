"""A running service follows the champion alias: after a promotion it answers from the new
version without a restart, with no failed request in between, and logs every answer."""

from __future__ import annotations

import time

import httpx
import pytest
import yaml

from mlrig.components.config.loader import load
from mlrig.components.features.io import publish
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.monitor.predlog import PredictionLog
from tests.anytable.shop import write_shop
from tests.anytable.test_shop import REQUESTS
from tests.e2e.test_local_e2e import serving
from tests.stages import run_stages

pytestmark = pytest.mark.e2e


def test_service_swaps_to_a_new_champion_without_restart(tmp_path):
    config = write_shop(tmp_path)
    data = yaml.safe_load(config.read_text())
    data["serving"] = {"reload_seconds": 1}
    config.write_text(yaml.safe_dump(data))
    run_stages(load(config), tmp_path / "run1")
    with serving(config, tmp_path) as base:
        first = httpx.post(f"{base}/predict", json=REQUESTS[0], timeout=30)
        assert first.status_code == 200 and first.json()["model_version"] == 1
        write_shop(tmp_path, seed=1)  # new data, a new feature set
        config.write_text(yaml.safe_dump({**data, "model": {**data["model"],
                                                             "gate": {"auto_promote": False}}}))  # fmt: skip
        second = run_stages(load(config), tmp_path / "run2")
        assert not second["promoted"]
        loaded = load(config)
        publish(loaded.to_json(), 2)  # what `mlrig model promote 2` does: features live, alias
        mlflow = tracking.configure(loaded.place)
        mlflow.MlflowClient().set_registered_model_alias("shop", "champion", "2")
        versions, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline and 2 not in versions:
            answer = httpx.post(f"{base}/predict", json=REQUESTS[0], timeout=30)
            assert answer.status_code == 200, answer.text  # no failed request during the swap
            versions.append(answer.json()["model_version"])
            time.sleep(0.2)
        assert versions[-1] == 2
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
        assert 'mlrig_predictions_total{model_version="2",outcome="ok"}' in metrics
        assert "mlrig_prediction_score_bucket" in metrics
    log = PredictionLog(tmp_path / ".mlrig/predictions/predictions.db")
    logged = log.read()
    log.close()
    assert set(logged.version) == {1, 2} and len(logged) == 1 + len(versions)


def test_a_new_champion_with_other_request_fields_brings_its_own_schema(tmp_path):
    config = write_shop(tmp_path, request_features=["zip"])  # v1 takes zip, not age
    data = yaml.safe_load(config.read_text())
    data["serving"] = {"reload_seconds": 1}
    config.write_text(yaml.safe_dump(data))
    run_stages(load(config), tmp_path / "run1")
    with_zip = {k: v for k, v in REQUESTS[0].items() if k != "age"}
    with_age = {k: v for k, v in REQUESTS[0].items() if k != "zip"}
    with serving(config, tmp_path) as base:
        assert httpx.post(f"{base}/predict", json=with_zip, timeout=30).status_code == 200
        refused = httpx.post(f"{base}/predict", json=with_age, timeout=30)
        assert refused.status_code == 400 and "age" in refused.text
        data["dataset"]["request_features"] = ["age"]  # v2 takes age, and no longer zip
        data["model"]["gate"] = {"auto_promote": False}
        config.write_text(yaml.safe_dump(data))
        run_stages(load(config), tmp_path / "run2")
        loaded = load(config)
        publish(loaded.to_json(), 2)
        tracking.configure(loaded.place).MlflowClient().set_registered_model_alias(
            "shop", "champion", "2"
        )
        streak, deadline = 0, time.monotonic() + 90
        while streak < 10 and time.monotonic() < deadline:  # every worker has swapped
            answer = httpx.post(f"{base}/predict", json=with_age, timeout=30)
            streak = streak + 1 if answer.status_code == 200 else 0
            if answer.status_code == 200:
                assert answer.json()["model_version"] == 2  # never v1 answering v2's fields
            else:
                assert answer.status_code == 400, answer.text
            time.sleep(0.1)
        assert streak == 10
        dropped = httpx.post(f"{base}/predict", json=with_zip, timeout=30)
        assert dropped.status_code == 400 and "zip" in dropped.text, dropped.text
        batch = httpx.post(f"{base}/predict_batch", json={"rows": [with_age, with_age]}, timeout=30)
        assert batch.status_code == 200
        assert [a["model_version"] for a in batch.json()["predictions"]] == [2, 2]
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
        assert 'mlrig_model_swaps_total{model_version="2",request_schema="changed"}' in metrics
