"""Operating mlrig: a failed pipeline ends with the stage and the cause, validation stops a run
that lost its rows, one run per project at a time, kill -9 of `mlrig run` stops its whole
pipeline, a port in use is one line, and SIGTERM to `mlrig serve` drains it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from mlrig.components.runtime.process import project_lock
from tests.conftest import write_demo

pytestmark = pytest.mark.e2e


def _cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlrig.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def _pids_mentioning(text: str) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines()[1:] if text in line]


def test_a_run_that_loses_its_rows_stops_at_validate_naming_the_cause(tmp_path):
    config = write_demo(tmp_path, sample_rows=2000)
    data = yaml.safe_load(config.read_text())
    data["dataset"]["tables"]["flights"]["columns"]["carrier"]["type"] = "int"  # "UA" is no int
    config.write_text(yaml.safe_dump(data))
    result = _cli("run", "--config", str(config), cwd=tmp_path)
    flat = " ".join(result.stdout.split())
    assert result.returncode == 1
    assert "pipeline failed at stage validate" in flat and "table 'flights'" in flat
    assert "carrier: not a valid int" in flat and "Traceback" not in result.stdout
    assert not (tmp_path / ".mlrig/feature_data").exists()  # nothing downstream was touched


def test_one_run_per_project_folder(tmp_path):
    config = write_demo(tmp_path, sample_rows=2000)
    with project_lock(tmp_path / ".mlrig"):
        result = _cli("run", "--config", str(config), cwd=tmp_path, timeout=60)
    assert result.returncode == 1 and "another mlrig run is running" in result.stdout


def test_kill_9_of_mlrig_run_stops_its_pipeline(tmp_path):
    config = write_demo(tmp_path, sample_rows=3000)
    proc = subprocess.Popen([sys.executable, "-m", "mlrig.cli", "run", "--config", str(config)],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        events: list[Path] = []
        while time.monotonic() < deadline:
            events = list((tmp_path / ".mlrig").glob("events-*.jsonl"))
            if events and '"features"' in events[0].read_text():
                break
            time.sleep(0.5)
        assert events, "the pipeline never reached the features stage"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 30
        while _pids_mentioning(str(config)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _pids_mentioning(str(config)) == []  # no orphan goes on to register
        time.sleep(2)
        assert not list((tmp_path / ".mlrig/pipeline_root").glob("*/register"))
        again = _cli("run", "--config", str(config), cwd=tmp_path, timeout=60 * 10)
        assert again.returncode == 0, again.stdout[-2000:]  # the lock died with the run
    finally:
        for pid in _pids_mentioning(str(config)):
            os.kill(pid, signal.SIGKILL)


def test_a_port_in_use_is_one_line(tmp_path):
    config = write_demo(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _cli("serve", "--config", str(config), "--port", str(port), cwd=tmp_path,
                      timeout=60)  # fmt: skip
    assert result.returncode == 1 and "cannot serve on 127.0.0.1" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_sigterm_drains_requests_in_flight_and_leaves_nothing_behind(trained):
    """What a pod deletion does after preStop: SIGTERM to `mlrig serve` (the container's
    command). Requests already being served finish with 200; then every process of it exits."""
    import threading

    import httpx

    from tests.e2e.test_local_e2e import GOOD
    from tests.helpers import free_port, wait_http

    folder, config, _ = trained
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLRIG")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlrig.cli", "serve", "--config", str(config), "--port", str(port)],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/readyz", died=lambda: proc.poll() is not None and "serve exited")
        answers: list[object] = []

        def big_batch() -> None:  # 1,000 rows take about a second here: long enough to be in flight
            try:
                rows = [{**GOOD, "tailnum": f"N{i:05d}"} for i in range(1000)]
                answers.append(httpx.post(f"{base}/predict_batch", json={"rows": rows},
                                          timeout=60).status_code)  # fmt: skip
            except httpx.HTTPError as exc:
                answers.append(repr(exc))

        clients = [threading.Thread(target=big_batch) for _ in range(4)]
        for client in clients:
            client.start()
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)  # the process a pod's kubelet signals
        for client in clients:
            client.join()
        assert answers == [200, 200, 200, 200]
        assert proc.wait(timeout=40) is not None  # inside the 45 s terminationGracePeriodSeconds
        time.sleep(1)
        with pytest.raises(ProcessLookupError):  # no worker left behind in its process group
            os.killpg(proc.pid, 0)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
