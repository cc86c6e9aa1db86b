"""The closed loop, replayed: a model trained before a drift serves the months after it, the
monitor finds the drift and the decay, a retrain runs, the gate decides with its numbers, and a
service that was running all along answers from the promoted version without a restart. Killing
that service with kill -9 loses no prediction it acknowledged."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import httpx
import pandas as pd
import pytest
import yaml

from mlrig.components.config.loader import load
from mlrig.components.monitor.predlog import PredictionLog
from mlrig.pipelines.replay import replay, with_until
from tests.anytable.shop import write_shop
from tests.anytable.test_shop import REQUESTS
from tests.e2e.test_local_e2e import serving
from tests.helpers import service_pids
from tests.stages import run_stages

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def drifting(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replay")
    config = write_shop(folder, customers=600, drift_from="2024-10-01")
    data = yaml.safe_load(config.read_text())
    data["monitor"] = {"max_drifted_features": 0, "window": "M"}
    data["serving"] = {"reload_seconds": 1}
    config.write_text(yaml.safe_dump(data))
    return folder, config


def test_replay_retrains_on_drift_and_the_running_service_follows(drifting):
    folder, config = drifting
    loaded = load(config)
    runs = []

    def trainer(cut):
        runs.append(cut.config.dataset.until)
        return run_stages(cut, folder / f"run{len(runs)}")

    start = pd.Timestamp("2024-09-15", tz="America/New_York")
    assert trainer(with_until(loaded, start))["promoted"]  # the champion the service starts with
    with serving(config, folder) as base:
        before = httpx.post(f"{base}/predict", json=REQUESTS[0], timeout=30).json()
        result = replay(loaded, "2024-09-15", None, trainer, train_first=False)
        steps = result["steps"]
        assert [s["month"] for s in steps] == ["2024-09", "2024-10", "2024-11"]
        assert runs[0] == "2024-09-15T00:00:00-04:00" and len(runs) == 1 + len(
            [s for s in steps if s["training"]]
        )
        october = steps[1]
        assert october["retrain"] and "age" in october["drifted"]
        assert any("roc_auc" in r and "at evaluation" in r for r in october["reasons"])
        gates = [s["training"] for s in steps if s["training"]]
        assert all(g["reason"] and g["challenger"] is not None for g in gates)
        promoted = [g for g in gates if g["promoted"]]
        assert promoted, [g["reason"] for g in gates]
        new = promoted[-1]["version"]
        assert "beats champion" in promoted[-1]["reason"]
        versions, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline and new not in versions:
            answer = httpx.post(f"{base}/predict", json=REQUESTS[0], timeout=30)
            assert answer.status_code == 200, answer.text
            versions.append(answer.json()["model_version"])
            time.sleep(0.3)
        assert versions[-1] == new != before["model_version"]
        # the monitor's gauges, re-read every 15 s by each worker: wait for the latest check's
        # values in every series (a loaded machine took longer than 40 s)
        wanted = ('mlrig_monitor_feature_psi{feature="age"', 'metric="roc_auc"', 'value="retrain"',
                  "mlrig_monitor_contribution_share{")  # fmt: skip
        metrics, deadline = "", time.monotonic() + 120
        while time.monotonic() < deadline and not all(w in metrics for w in wanted):
            time.sleep(1)
            metrics = httpx.get(f"{base}/metrics", timeout=10).text
        assert 'mlrig_monitor_feature_psi{feature="age"' in metrics
        assert 'metric="roc_auc"' in metrics and 'value="retrain"' in metrics
        assert "mlrig_monitor_contribution_share{" in metrics  # explanation drift's shares
    timeline = json.loads((folder / result["folder"] / "timeline.json").read_text())
    assert [s["version"] for s in timeline["steps"]] == [s["version"] for s in steps]
    page = (folder / result["report"]).read_text()
    assert page.count("data:image/png;base64,") == 3 and "beats champion" in page
    # per month: ROC-AUC estimated from the probabilities beside the realized one, and the
    # inputs whose share of the answers moved
    assert all({"roc_auc", "estimated_roc_auc"} <= set(s["metrics"]) for s in steps)
    assert all(isinstance(s["reasons_moved"], list) for s in timeline["steps"])
    assert "estimated before labels" in page and "reasons moved:" in page
    log = PredictionLog(folder / ".mlrig/predictions/predictions.db")
    logged = log.read()
    log.close()
    replayed = logged[logged.label.notna()]
    assert len(replayed) == sum(s["rows"] for s in steps)
    assert set(replayed.version) == {s["version"] for s in steps}


def test_kill_9_loses_no_acknowledged_prediction(drifting):
    folder, config = drifting
    acknowledged: list[str] = []
    stop = threading.Event()
    with serving(config, folder) as base:

        def client() -> None:
            with httpx.Client(timeout=5) as http:
                while not stop.is_set():
                    try:
                        answer = http.post(f"{base}/predict", json=REQUESTS[1])
                    except httpx.HTTPError:
                        return  # the service is gone
                    if answer.status_code == 200:
                        acknowledged.append(answer.json()["request_id"])

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        port = int(base.rsplit(":", 1)[1])
        service = service_pids(port)
        for pid in service:
            os.kill(pid, signal.SIGKILL)  # the server and its workers, without warning
        stop.set()
        for t in threads:
            t.join(timeout=10)
        assert _gone(service), "a process of the killed service is still running"
    assert len(acknowledged) >= 200
    log = PredictionLog(folder / ".mlrig/predictions/predictions.db")
    logged = set(log.read().request_id)
    log.close()
    lost = [rid for rid in acknowledged if rid not in logged]
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged predictions not in the log"


def _running(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _gone(pids: list[int], timeout: float = 10) -> bool:
    """Every pid has exited (a killed child not yet reaped counts as exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_running(p) for p in pids):
            return True
        time.sleep(0.1)
    return False
