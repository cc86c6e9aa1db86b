"""The cluster profile against the real services it uses in Kubernetes, run here on loopback:
MLflow tracking server on PostgreSQL, the Feast registry in PostgreSQL, Redis as online store,
and the Feast feature server started from the manifests' own feature_store.yaml."""

from __future__ import annotations

import sys
import time

import httpx
import pytest

from tests.conftest import REPO
from tests.helpers import free_port, wait_http
from tests.services.conftest import GOOD, PASSWORDS, died

pytestmark = pytest.mark.services


@pytest.mark.parametrize(
    ("role", "other"), [("mlflow", "feast"), ("feast", "mlflow"), ("predictions", "mlflow")]
)
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


def test_the_serving_login_reads_models_and_can_change_nothing(stack, monkeypatch):
    import mlflow

    from mlrig.components.integrations.mlflow import integrity

    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "serving")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORDS["mlflow-serving"])
    mlflow.set_tracking_uri(stack["mlflow"])
    client = mlflow.MlflowClient()
    champion = client.get_model_version_by_alias("flights-delay", "champion")
    assert integrity.load_verified(mlflow, "flights-delay", int(champion.version)) is not None
    refused = mlflow.exceptions.MlflowException
    with pytest.raises(refused, match="PERMISSION_DENIED|403"):
        client.set_model_version_tag("flights-delay", champion.version, integrity.TAG, "0" * 64)
    with pytest.raises(refused, match="PERMISSION_DENIED|403"):
        client.set_registered_model_alias("flights-delay", "champion", champion.version)
    with pytest.raises(refused, match="PERMISSION_DENIED|403"):
        client.create_run(client.get_experiment_by_name("flights-delay").experiment_id)
    put = httpx.put(
        f"{stack['mlflow']}/api/2.0/mlflow-artifacts/artifacts/1/{champion.run_id}/artifacts/x",
        content=b"replaced", auth=("serving", PASSWORDS["mlflow-serving"]), timeout=10,
    )  # fmt: skip
    assert put.status_code == 403
    tags = client.get_model_version("flights-delay", champion.version).tags
    assert tags[integrity.TAG] != "0" * 64


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


def test_service_predicts_from_redis_and_the_tracking_server(stack, process):
    port = free_port()
    proc = process([sys.executable, "-m", "mlrig.cli", "serve", "-c", str(stack["config"]),
                    "-p", "cluster", "--port", str(port)], cwd=stack["folder"],
                   env=stack["serving_env"])  # fmt: skip
    wait_http(f"http://127.0.0.1:{port}/readyz", died=lambda: died(proc))
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
    wait_http(f"http://127.0.0.1:{port}/health", died=lambda: died(proc))
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
                    "-p", "cluster", "--port", str(port)], cwd=stack["folder"],
                   env=stack["serving_env"])  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/readyz", died=lambda: died(proc))
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


def test_a_serving_pods_alias_read_is_one_request_to_the_tracking_server(stack, monkeypatch):
    """Each request costs the basic-auth server a password hash (about 0.1 s of a core): a pod
    reads the aliases every serving.reload_seconds, and finding and setting the experiment
    again made each read three requests."""
    import requests

    from mlrig.components.config.loader import load
    from mlrig.serving.predictor import model_aliases

    for key, value in stack["serving_env"].items():
        monkeypatch.setenv(key, value)
    loaded = load(stack["config"], profile="cluster")
    sent: list[str] = []
    send = requests.Session.request

    def counted(self, method, url, *args, **kwargs):
        sent.append(url)
        return send(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", counted)
    first = model_aliases(loaded)
    assert first["champion"] == 1
    at_first = len(sent)
    for _ in range(3):
        assert model_aliases(loaded) == first
    assert len(sent) - at_first == 3, sent[at_first:]
    assert all(url.startswith(stack["mlflow"]) for url in sent)
