"""The prediction log of the cluster profile: one PostgreSQL database that every serving replica
writes, where an answer leaves only after its row is committed."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import httpx
import pandas as pd
import pytest

from mlrig.components.config import env as mlrig_env
from mlrig.components.monitor.predlog import PredictionLog
from tests.helpers import free_port, wait_http
from tests.services.conftest import GOOD, died

pytestmark = pytest.mark.services


def _log(stack) -> PredictionLog:
    os.environ[mlrig_env.PREDLOG_PASSWORD] = stack["env"][mlrig_env.PREDLOG_PASSWORD]
    return PredictionLog(stack["env"]["MLRIG__STORES__PREDICTION_LOG"])


def _serve(stack, process, workers: int = 1) -> tuple[str, subprocess.Popen]:
    port = free_port()
    env = {**stack["serving_env"], "MLRIG__SERVING__WORKERS": str(workers)}
    proc = process([sys.executable, "-m", "mlrig.cli", "serve", "-c", str(stack["config"]),
                    "-p", "cluster", "--port", str(port)], cwd=stack["folder"], env=env)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/readyz", died=lambda: died(proc))
    return base, proc


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and every process under it (BentoML's workers run in their own group),
    as a pod's kill takes every process of its container."""
    import psutil

    parent = psutil.Process(pid)
    for proc in [*parent.children(recursive=True), parent]:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(signal.SIGKILL)


def test_two_replicas_share_the_log_and_a_kill_loses_no_acknowledged_prediction(stack, process):
    (first, killed), (second, _) = _serve(stack, process), _serve(stack, process)
    acknowledged: list[str] = []
    refused: Counter[str] = Counter()
    stop = threading.Event()

    def client(base: str) -> None:
        with httpx.Client(timeout=10) as http:
            while not stop.is_set():
                try:
                    answer = http.post(f"{base}/predict", json=GOOD)
                except httpx.HTTPError:  # the killed replica: nothing was acknowledged
                    refused[base] += 1
                    time.sleep(0.05)
                    continue
                if answer.status_code == 200:
                    acknowledged.append(answer.json()["request_id"])
                else:
                    refused[base] += 1

    threads = [threading.Thread(target=client, args=(base,)) for base in (first, second) * 2]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 120
        while len(acknowledged) < 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        _kill_tree(killed.pid)  # mid-stream: requests in flight on it are cut
        at_kill = len(acknowledged)
        time.sleep(3)  # the other replica goes on answering
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert at_kill >= 200 and len(acknowledged) > at_kill, (at_kill, len(acknowledged))
    assert refused[first] > 0  # the kill was felt by its clients
    log = _log(stack)
    logged = log.read(columns=["request_id", "version"])
    log.close()
    times = Counter(logged.request_id)
    missing = [rid for rid in acknowledged if times[rid] == 0]
    doubled = [rid for rid in acknowledged if times[rid] > 1]
    print(f"acknowledged {len(acknowledged)}, refused {dict(refused)}, logged {len(logged)}")
    assert not missing and not doubled
    assert len(set(acknowledged)) == len(acknowledged)


def test_a_label_with_any_offset_attaches_to_every_prediction_of_its_keys_and_instant(
    stack, process, tmp_path
):
    base, _ = _serve(stack, process)
    at_815 = {**GOOD, "sched_dep": "2013-11-04T08:15:00"}  # New York time, UTC-5 that day
    at_1730 = {**GOOD, "sched_dep": "2013-07-01T17:30:00"}  # UTC-4 in summer
    ids = {"815": [], "1730": []}
    for name, request in (("815", at_815), ("1730", at_1730)):
        for _ in range(3):
            answer = httpx.post(f"{base}/predict", json=request, timeout=10)
            assert answer.status_code == 200, answer.text
            ids[name].append(answer.json()["request_id"])
    labels = pd.DataFrame({
        "tailnum": ["N14228", "N14228", "N14228"],
        "origin": ["EWR", "EWR", "EWR"],
        "route": ["EWR-IAH", "EWR-IAH", "EWR-IAH"],  # derived from origin and dest
        # the same instants written with another offset, and a time no prediction was made at
        "event_time": ["2013-11-04T13:15:00+00:00", "2013-07-01T23:30:00+02:00",
                       "2013-07-01T17:30:00+00:00"],
        "late": [1, 0, 1],
    })  # fmt: skip
    path = tmp_path / "labels.csv"
    labels.to_csv(path, index=False)
    done = subprocess.run([sys.executable, "-m", "mlrig.cli", "monitor", "labels", str(path),
                           "-c", str(stack["config"]), "-p", "cluster"], cwd=stack["folder"],
                          env=stack["env"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    log = _log(stack)
    logged = log.read(columns=["request_id", "label"]).set_index("request_id").label
    log.close()
    assert [logged[rid] for rid in ids["815"]] == ["1"] * 3
    assert [logged[rid] for rid in ids["1730"]] == ["0"] * 3
