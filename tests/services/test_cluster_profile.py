"""The cluster profile against the real services it uses in Kubernetes, run here on loopback:
MLflow tracking server on PostgreSQL, the Feast registry in PostgreSQL, Redis as online store,
and the Feast feature server started from the manifests' own feature_store.yaml."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, write_demo
from tests.helpers import free_port, wait_http
from tests.services import servers

pytestmark = pytest.mark.services
PASSWORDS = {"mlflow": "mlflow-test-only", "feast": "feast-test-only", "redis": "redis-test-only",
             "mlflow-auth": "mlflow-auth-test-only"}  # fmt: skip
GOOD = {"tailnum": "N14228", "origin": "EWR", "dest": "IAH", "carrier": "UA",
        "sched_dep": "2013-12-30T08:15:00"}  # fmt: skip


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    absent = servers.missing()
    if absent:
        pytest.skip(
            f"not installed: {', '.join(absent)} (.ci/run installs redis-server, postgresql)"
        )
    folder = tmp_path_factory.mktemp("cluster-profile")
    with servers.postgres(PASSWORDS) as pg, servers.redis(PASSWORDS["redis"]) as redis:
        backend = f"postgresql+psycopg2://mlflow:{PASSWORDS['mlflow']}@127.0.0.1:{pg}/mlflow"
        with servers.mlflow_server(backend, folder / "artifacts",
                                   PASSWORDS["mlflow-auth"]) as mlflow_url:  # fmt: skip
            env = {k: v for k, v in os.environ.items() if not k.startswith("MLRIG")}
            env.update({
                "MLRIG_PG_PASSWORD": PASSWORDS["feast"],
                "MLRIG_REDIS_PASSWORD": PASSWORDS["redis"],
                "MLFLOW_TRACKING_PASSWORD": PASSWORDS["mlflow-auth"],  # the user: admin, by default
                "MLRIG__WORKDIR": str(folder / "data"),
                "MLRIG__STORES__MLFLOW_TRACKING_URI": mlflow_url,
                "MLRIG__STORES__FEAST_REDIS":
                    f"127.0.0.1:{redis.port},password=${{MLRIG_REDIS_PASSWORD}}",
                "MLRIG__STORES__FEAST_REGISTRY":
                    f"postgresql+psycopg2://feast:${{MLRIG_PG_PASSWORD}}@127.0.0.1:{pg}/feast",
                "MLRIG__STORES__FEATURE_DATA_DIR": str(folder / "data/feature_data"),
                "MLRIG__SERVING__HOST": "127.0.0.1",
            })  # fmt: skip
            config = write_demo(folder, sample_rows=5000, tuning_sample_rows=3000)
            run = subprocess.run(
                [sys.executable, "-m", "mlrig.cli", "run", "-c", str(config), "-p", "cluster"],
                cwd=folder, env=env, capture_output=True, text=True, timeout=900,
            )  # fmt: skip
            log = folder / "data/last-run.log"
            assert run.returncode == 0, run.stdout[-2000:] + (
                log.read_text()[-3000:] if log.exists() else ""
            )
            yield {"folder": folder, "config": config, "env": env, "pg": pg, "redis": redis.port,
                   "redis_server": redis, "mlflow": mlflow_url}  # fmt: skip


@pytest.mark.parametrize(("role", "other"), [("mlflow", "feast"), ("feast", "mlflow")])
def test_each_service_role_reaches_only_its_own_database(stack, role, other):
    import psycopg2

    def connect(database: str):
        return psycopg2.connect(host="127.0.0.1", port=stack["pg"], user=role,
                                password=PASSWORDS[role], dbname=database)  # fmt: skip

    connect(role).close()
    with pytest.raises(psycopg2.OperationalError, match="permission denied"):
        connect(other)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(host="127.0.0.1", port=stack["pg"], user=role, password="wrong",
                         dbname=role)  # fmt: skip


def test_the_tracking_server_refuses_requests_without_its_login(stack):
    url = stack["mlflow"]
    search = f"{url}/api/2.0/mlflow/registered-models/search"
    assert httpx.get(search, timeout=10).status_code == 401
    assert httpx.get(search, auth=("admin", "wrong"), timeout=10).status_code == 401
    put = httpx.put(
        f"{url}/api/2.0/mlflow-artifacts/artifacts/1/x/artifacts/model/model.skops",
        content=b"replaced",
        timeout=10,
    )  # what replaced a champion's file before
    assert put.status_code == 401
    assert (
        httpx.get(search, auth=("admin", PASSWORDS["mlflow-auth"]), timeout=10).status_code == 200
    )
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200  # the probes' path


def test_champion_is_registered_on_the_tracking_server(stack, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORDS["mlflow-auth"])
    client = mlflow.MlflowClient(tracking_uri=stack["mlflow"])
    version = client.get_model_version_by_alias("flights-delay", "champion")
    assert version.version == "1"
    run = client.get_run(version.run_id)
    assert run.data.metrics["holdout_roc_auc"] > 0.5
    artifacts = {a.path for a in client.list_artifacts(version.run_id)}
    assert "evaluation" in artifacts


def test_online_features_were_materialized_into_redis(stack):
    import redis

    assert (
        redis.Redis(host="127.0.0.1", port=stack["redis"], password=PASSWORDS["redis"]).dbsize()
        > 100
    )


@pytest.fixture
def process():
    started: list[subprocess.Popen] = []

    def start(argv: list[str], **kw) -> subprocess.Popen:
        log = Path(tempfile.mkdtemp(prefix="mlrig-server-")) / "log"
        with log.open("w") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, **kw)  # fmt: skip
        proc.log_path = log  # type: ignore[attr-defined]
        started.append(proc)
        return proc

    yield start
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _died(proc: subprocess.Popen) -> str | None:
    return proc.log_path.read_text()[-3000:] if proc.poll() is not None else None


def test_service_predicts_from_redis_and_the_tracking_server(stack, process):
    port = free_port()
    proc = process([sys.executable, "-m", "mlrig.cli", "serve", "-c", str(stack["config"]),
                    "-p", "cluster", "--port", str(port)], cwd=stack["folder"], env=stack["env"])  # fmt: skip
    wait_http(f"http://127.0.0.1:{port}/readyz", died=lambda: _died(proc))
    answer = httpx.post(f"http://127.0.0.1:{port}/predict", json=GOOD, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["model_version"] == 1 and answer.json()["inputs_present"] > 20


def test_read_only_feature_server_runs_from_the_manifests_feature_store_yaml(
    stack, process, tmp_path
):
    text = (REPO / "manifests/base/feature_store.yaml").read_text()
    text = text.replace("@postgres:5432", f"@127.0.0.1:{stack['pg']}")
    text = text.replace("redis:6379", f"127.0.0.1:{stack['redis']}")
    (tmp_path / "feature_store.yaml").write_text(text)
    port = free_port()
    (tmp_path / "metrics").mkdir()
    env = {**stack["env"], "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    proc = process([sys.executable, "-m", "mlrig.cli", "features", "serve", "--repo", str(tmp_path),
                    "--host", "127.0.0.1", "--port", str(port)], env=env)  # fmt: skip
    wait_http(f"http://127.0.0.1:{port}/health", died=lambda: _died(proc))
    answer = httpx.post(
        f"http://127.0.0.1:{port}/get-online-features",
        json={"feature_service": "flight_delay_v1", "full_feature_names": True,
              "entities": {"tailnum": ["N14228"], "origin": ["EWR"], "route": ["EWR-IAH"]}},
        timeout=30,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    names = body["metadata"]["feature_names"]
    assert "plane_attributes__seats" in names
    seats = body["results"][names.index("plane_attributes__seats")]["values"][0]
    assert seats and seats > 0
    for path in ("/push", "/write-to-online-store", "/materialize", "/materialize-incremental"):
        assert httpx.post(f"http://127.0.0.1:{port}{path}", json={}, timeout=10).status_code == 404


def test_redis_down_is_a_fast_503_naming_it_and_the_service_recovers(stack, process):
    port = free_port()
    proc = process([sys.executable, "-m", "mlrig.cli", "serve", "-c", str(stack["config"]),
                    "-p", "cluster", "--port", str(port)], cwd=stack["folder"], env=stack["env"])  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/readyz", died=lambda: _died(proc))
    assert httpx.post(f"{base}/predict", json=GOOD, timeout=10).status_code == 200
    redis = stack["redis_server"]
    redis.stop()
    try:
        down = httpx.post(f"{base}/predict", json=GOOD, timeout=5)  # a retry loop fails here
        assert down.status_code == 503, down.text
        assert "online feature store unavailable" in down.json()["error"]
        batch = httpx.post(f"{base}/predict_batch", json={"rows": [GOOD]}, timeout=10)
        assert batch.status_code == 503
    finally:
        redis.start()
    answers = []
    for _ in range(20):  # no restart of the service: the next requests reconnect
        answers.append(httpx.post(f"{base}/predict", json=GOOD, timeout=10))
        if answers[-1].status_code == 200:
            break
        time.sleep(0.5)
    assert answers[-1].status_code == 200, answers[-1].text
    assert answers[-1].json()["inputs_present"] > 20  # the features came back with Redis
    metrics = httpx.get(f"{base}/metrics", timeout=10).text
    assert 'outcome="store_unavailable"' in metrics
