"""Docker tier: the mlrig image built from a local base, the training pipeline in containers
(kfp.local DockerRunner) matching the subprocess runner, and the serving container on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mlrig.cluster.images import DEFAULT_TAG, docker_env
from mlrig.components.config.loader import load
from mlrig.components.integrations.mlflow import tracking
from tests.conftest import REPO, write_demo
from tests.helpers import free_port, wait_http

pytestmark = pytest.mark.docker
BASE = os.environ.get("MLRIG_TEST_BASE_IMAGE", "local/python:3.11-bookworm-omp")
GOOD = {"tailnum": "N14228", "origin": "EWR", "dest": "IAH", "carrier": "UA",
        "sched_dep": "2013-12-30T08:15:00"}  # fmt: skip


def _docker(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], env=docker_env(), capture_output=True, text=True,
                          check=check, **kw)  # fmt: skip


@pytest.fixture(scope="module")
def image():
    try:
        if _docker("info", check=False).returncode != 0:
            pytest.skip("no Docker daemon answers (.ci/run starts one: tools/start-dockerd.sh)")
    except FileNotFoundError:
        pytest.skip("docker is not installed (.ci/run installs docker.io)")
    if _docker("image", "inspect", BASE, check=False).returncode != 0:
        subprocess.run([str(REPO / "tools/build-local-base.sh"), BASE], check=True,
                       env=docker_env(), timeout=900)  # fmt: skip
    built = subprocess.run(
        [sys.executable, "-m", "mlrig.cli", "image", "build", "--base-image", BASE,
         "--context", str(REPO)],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:]
    return DEFAULT_TAG


def _run(folder: Path, runner: str) -> dict:
    config = write_demo(folder, sample_rows=3000, tuning_sample_rows=2000)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLRIG")}
    result = subprocess.run(
        [sys.executable, "-m", "mlrig.cli", "run", "--config", str(config),
         "--runner", runner],
        cwd=folder, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    log = (folder / ".mlrig/last-run.log").read_text() if (folder / ".mlrig").exists() else ""
    assert result.returncode == 0, result.stdout[-3000:] + log[-3000:]
    loaded = load(config)
    client = tracking.configure(loaded.place).MlflowClient()
    version = client.get_model_version_by_alias(loaded.config.model.name, "champion")
    run = client.get_run(version.run_id)
    return {"metrics": run.data.metrics, "params": run.data.params, "log": log}


@pytest.fixture(scope="module")
def runs(image, tmp_path_factory):
    docker_dir = tmp_path_factory.mktemp("docker")
    local_dir = tmp_path_factory.mktemp("subprocess")
    return docker_dir, _run(docker_dir, "docker"), _run(local_dir, "subprocess")


def test_each_stage_ran_in_the_mlrig_image(runs):
    _, docker, _ = runs
    assert docker["log"].count(f"Found image '{DEFAULT_TAG}'") == 8


def test_docker_runner_gives_the_same_results_as_the_subprocess_runner(runs):
    _, docker, local = runs
    for key in ("dataset_hash", "train_rows", "holdout_rows", "candidate", "feature_service"):
        assert docker["params"][key] == local["params"][key], key
    for key in ("holdout_roc_auc", "holdout_accuracy", "cv_roc_auc_mean"):
        assert docker["metrics"][key] == pytest.approx(local["metrics"][key], abs=1e-6), key


@contextlib.contextmanager
def _container(folder: Path, port: int, ready: str, *command: str) -> Iterator[tuple[str, str]]:
    """Run `command` in the mlrig image on the project folder, publish `port` on loopback, wait
    for GET `ready` to answer 200; yield the base URL and the container id; always remove it."""
    host_port = free_port()
    started = _docker(
        "run", "-d", "--rm", "-p", f"127.0.0.1:{host_port}:{port}", "-v", f"{folder}:{folder}",
        "--user", f"{os.getuid()}:{os.getgid()}", "-e", "HOME=/tmp", DEFAULT_TAG, *command,
    )  # fmt: skip
    container = started.stdout.strip()
    base = f"http://127.0.0.1:{host_port}"
    try:
        wait_http(f"{base}{ready}", died=lambda: _docker("inspect", container, check=False).returncode
                  and _docker("logs", container, check=False).stdout[-2000:])  # fmt: skip
        yield base, container
    finally:
        _docker("rm", "-f", container, check=False)


def test_serving_container_answers_on_loopback(runs):
    folder, _, _ = runs
    config = str(folder / "mlrig.yaml")
    with _container(folder, 3000, "/readyz", "mlrig", "serve", "--config", config,
                    "--host", "0.0.0.0", "--port", "3000") as (base, _):  # fmt: skip
        answer = httpx.post(f"{base}/predict", json=GOOD, timeout=10)
        assert answer.status_code == 200, answer.text
        assert 0 <= answer.json()["probability"] <= 1
        bad = httpx.post(f"{base}/predict", json={**GOOD, "carrier": 3}, timeout=10)
        assert bad.status_code == 400 and "carrier" in json.dumps(bad.json()["detail"])


def test_feature_server_container_reads_and_refuses_writes(runs):
    """The image runs the read-only feature server as the feast Deployment does."""
    folder, _, _ = runs
    config = str(folder / "mlrig.yaml")
    with _container(folder, 6566, "/health", "mlrig", "features", "serve", "--config", config,
                    "--host", "0.0.0.0", "--port", "6566") as (base, container):  # fmt: skip
        live = _docker("logs", container, check=False).stdout
        service = next(w for w in live.split() if w.startswith("flight_delay"))
        answer = httpx.post(f"{base}/get-online-features", timeout=30, json={
            "feature_service": service, "full_feature_names": True,
            "entities": {"tailnum": ["N14228"], "origin": ["EWR"], "route": ["EWR-IAH"]},
        })  # fmt: skip
        assert answer.status_code == 200, answer.text
        names = answer.json()["metadata"]["feature_names"]
        seats = next(i for i, n in enumerate(names) if n.endswith("__seats"))  # versioned view
        assert answer.json()["results"][seats]["values"][0] > 0
        for path in ("/push", "/write-to-online-store", "/materialize"):
            assert httpx.post(f"{base}{path}", json={}, timeout=10).status_code == 404
