"""A running service picks up a shadow version from the registry: it keeps answering with the
champion, the same bytes as before, and logs the shadow's answer to each request beside it."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from mlrig.cli import app
from mlrig.components.config.loader import load
from mlrig.components.monitor.predlog import PredictionLog, log_location
from tests.anytable.shop import write_shop
from tests.anytable.test_shop import REQUESTS
from tests.e2e.test_local_e2e import serving
from tests.stages import run_stages

pytestmark = pytest.mark.e2e
ID = re.compile(r'"request_id":"[0-9a-f]+"')


def test_a_shadow_version_answers_beside_the_champion_without_changing_a_byte(tmp_path):
    config = write_shop(tmp_path)
    data = yaml.safe_load(config.read_text())
    data["serving"] = {"reload_seconds": 1}
    config.write_text(yaml.safe_dump(data))
    run_stages(load(config), tmp_path / "run1")
    data["model"].update({"candidates": {"logistic_regression": {}}, "gate": {"margin": 1.0}})
    config.write_text(yaml.safe_dump(data))
    assert not run_stages(load(config), tmp_path / "run2")["promoted"]
    log = PredictionLog(log_location(load(config).place))
    with serving(config, tmp_path) as base:

        def answers() -> list[str]:
            return [
                ID.sub("", httpx.post(f"{base}/predict", json=r, timeout=30).text) for r in REQUESTS
            ]

        before = answers()
        said = CliRunner().invoke(app, ["model", "shadow", "2", "-c", str(config)])
        assert said.exit_code == 0, said.output
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and log.read_shadows(2).empty:
            assert answers() == before  # the champion's answer, byte for byte, meanwhile
            time.sleep(0.5)
        during = answers()
        batch = httpx.post(f"{base}/predict_batch", json={"rows": REQUESTS}, timeout=30).json()
        time.sleep(2)  # the shadow's queue is scored off the response path
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
    assert during == before
    shadowed = log.read_shadows(2)
    served = set(log.read().request_id)
    assert set(shadowed.request_id) <= served and set(shadowed.served_version) == {1}
    assert {a["request_id"] for a in batch["predictions"]} <= set(shadowed.request_id)
    assert shadowed.error.isna().all() and shadowed.ms.gt(0).all()
    assert all(0 <= json.loads(p)["probability"] <= 1 for p in shadowed.shadow_prediction)
    assert 'mlrig_shadow_predictions_total{model_version="2",outcome="scored"}' in metrics
    log.close()
