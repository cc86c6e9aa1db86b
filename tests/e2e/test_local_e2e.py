"""The whole lifecycle on a flights sample: `mlrig run`, then `mlrig serve` answering HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pandas as pd
import pytest

from mlrig.cli.progress import STAGES
from mlrig.components.config.loader import load
from mlrig.components.integrations.mlflow import tracking
from tests.conftest import write_demo
from tests.helpers import free_port, wait_http

pytestmark = pytest.mark.e2e

GOOD = {"tailnum": "N14228", "origin": "EWR", "dest": "IAH", "carrier": "UA",
        "sched_dep": "2013-12-30T08:15:00"}  # fmt: skip


def test_run_prints_every_stage_and_the_holdout_auc(trained):
    _, _, stdout = trained
    for stage in STAGES:
        assert stage in stdout
    assert "holdout roc_auc: 0." in stdout
    flat = " ".join(stdout.split())  # rich wraps long lines
    assert "CV roc_auc: 0." in flat and "forward-chaining (time)" in flat  # side by side


def test_run_registers_a_champion_with_lineage(trained):
    _, config, _ = trained
    loaded = load(config)
    mlflow = tracking.configure(loaded.place)
    client = mlflow.MlflowClient()
    version = client.get_model_version_by_alias(loaded.config.model.name, "champion")
    run = client.get_run(version.run_id)
    assert run.data.tags["mlrig.feature_service"].startswith("flight_delay_v1_")  # versioned
    assert len(run.data.tags["mlrig.dataset_hash"]) == 64
    assert 0.5 < run.data.metrics["holdout_roc_auc"] <= 1.0
    assert "cv_roc_auc_mean" in run.data.metrics
    logged = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "evaluation")}
    assert {"evaluation/evaluation.html", "evaluation/roc.png", "evaluation/metrics.json"} <= logged
    eda_runs = mlflow.search_runs(filter_string="tags.`mlrig.stage` = 'eda'", output_format="list")
    assert (
        eda_runs
        and eda_runs[0].data.tags["mlrig.dataset_hash"] == run.data.tags["mlrig.dataset_hash"]
    )


def _rerun(folder, config) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLRIG")}
    again = subprocess.run(
        [sys.executable, "-m", "mlrig.cli", "run", "--config", str(config)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout[-3000:]
    return " ".join(again.stdout.split())


def test_an_unchanged_rerun_starts_no_pipeline_and_registers_nothing(trained):
    folder, config, _ = trained
    runs = set((folder / ".mlrig" / "pipeline_root").iterdir())
    out = _rerun(folder, config)
    assert "nothing changed since the run of" in out and "its results stand" in out
    assert set((folder / ".mlrig" / "pipeline_root").iterdir()) == runs  # no pipeline started
    loaded = load(config)
    client = tracking.configure(loaded.place).MlflowClient()
    name = loaded.config.model.name
    assert [int(v.version) for v in client.search_model_versions(f"name = '{name}'")] == [1]


def test_a_rerun_whose_record_the_registry_contradicts_runs_and_reuses_every_stage(trained):
    folder, config, _ = trained
    records = list((folder / ".mlrig" / "cache" / "runs").glob("*.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    records[0].write_text(json.dumps({**record, "run_prefix": "0000beef"}))
    out = _rerun(folder, config)
    assert "nothing changed" not in out
    assert out.count("cached: ") == 5  # validate, features, eda, train, evaluate
    assert "already registered as v1: nothing new to register" in out
    loaded = load(config)
    client = tracking.configure(loaded.place).MlflowClient()
    name = loaded.config.model.name
    assert [int(v.version) for v in client.search_model_versions(f"name = '{name}'")] == [1]


def test_run_with_a_bad_config_names_the_key(tmp_path):
    config = write_demo(tmp_path)
    config.write_text(config.read_text().replace("cv_folds: 3", "cv_folds: lots"))
    result = subprocess.run(
        [sys.executable, "-m", "mlrig.cli", "run", "--config", str(config)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2 and "model.cv_folds" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@contextlib.contextmanager
def serving(config, folder, ready_path: str = "/readyz"):
    """`mlrig serve` on a free port until ready_path answers; stopped by its process group."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLRIG")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlrig.cli", "serve", "--config", str(config),
         "--port", str(port)],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + ready_path, died=lambda: proc.poll() is not None and "mlrig serve exited")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(trained):
    folder, config, _ = trained
    with serving(config, folder) as base:
        yield base


def test_service_predicts_with_online_features(server):
    answer = httpx.post(f"{server}/predict", json=GOOD, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert 0.0 <= body["probability"] <= 1.0
    assert body["prediction"] in (0, 1) and body["model_version"] == 1
    assert body["inputs_present"] > 20  # plane, weather and history features came from Feast


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in GOOD.items() if k != "carrier"}, "carrier"),
        ({**GOOD, "tailnum": 7}, "tailnum"),
        ({**GOOD, "sched_dep": "soon"}, "sched_dep"),
        ({**GOOD, "dep_delay": 12.0}, "dep_delay"),
    ],
)
def test_bad_requests_get_a_4xx_naming_the_field(server, body, field):
    answer = httpx.post(f"{server}/predict", json=body, timeout=10)
    assert 400 <= answer.status_code < 500
    assert field in {err["loc"][0] for err in answer.json()["detail"] if err["loc"]}


def test_nan_and_broken_json_are_rejected_and_the_service_survives(server):
    raw = '{"tailnum": "N1", "origin": "EWR", "dest": "IAH", "carrier": "UA", "sched_dep": NaN}'
    answer = httpx.post(f"{server}/predict", content=raw,
                        headers={"Content-Type": "application/json"}, timeout=10)  # fmt: skip
    assert answer.status_code == 400 and "sched_dep" in answer.text
    broken = httpx.post(f"{server}/predict", content="{", timeout=10,
                        headers={"Content-Type": "application/json"})  # fmt: skip
    assert broken.status_code == 400
    assert httpx.post(f"{server}/predict", json=GOOD, timeout=10).status_code == 200
    assert "bentoml_service_request_total" in httpx.get(f"{server}/metrics", timeout=10).text


def test_predict_batch_answers_as_predict_does_within_its_row_limit(server):
    rows = [GOOD, {**GOOD, "tailnum": "N0NE", "sched_dep": "2013-12-30T11:00:00-05:00"}]
    answer = httpx.post(f"{server}/predict_batch", json={"rows": rows}, timeout=30)
    assert answer.status_code == 200, answer.text
    batch = answer.json()["predictions"]
    singles = [httpx.post(f"{server}/predict", json=r, timeout=10).json() for r in rows]
    for b, one in zip(batch, singles, strict=True):
        assert b["probability"] == pytest.approx(one["probability"], abs=1e-6)
        assert b["missing_features"] == one["missing_features"] and b["request_id"]
    assert batch[1]["unknown_entities"] == ["plane_attributes", "plane_history"]
    over = httpx.post(f"{server}/predict_batch", json={"rows": [GOOD] * 1001}, timeout=30)
    assert over.status_code == 400 and "rows" in over.text  # serving.max_batch_rows: 1000
    bad = httpx.post(f"{server}/predict_batch",
                     json={"rows": [GOOD, {**GOOD, "carrier": 7}]}, timeout=10)  # fmt: skip
    assert bad.status_code == 400 and "carrier" in bad.text


def test_a_label_written_with_an_offset_attaches_to_every_matching_prediction(server, trained):
    """The log holds every entity key with its value (route is derived from origin and dest),
    and a label's time is an instant: -05:00 or the naive local time both match."""
    from mlrig.components.monitor.predlog import PredictionLog, log_path

    folder, config, _ = trained
    request = {**GOOD, "sched_dep": "2013-12-29T07:00:00"}
    ids = [httpx.post(f"{server}/predict", json=request, timeout=10).json()["request_id"]
           for _ in range(2)]  # fmt: skip
    log = PredictionLog(log_path(load(config).place))
    logged = log.read().set_index("request_id").loc[ids]
    keys = pd.read_json(logged["keys"].iloc[0], typ="series").to_dict()
    assert keys["route"] == "EWR-IAH" and keys["tailnum"] == "N14228"
    label = {k: v for k, v in keys.items()} | {"event_time": "2013-12-29T07:00:00-05:00",
                                               "late": 1}  # fmt: skip
    assert log.add_labels(pd.DataFrame([label]), "late", "America/New_York") == 2
    naive = {**label, "event_time": "2013-12-29 07:00:00", "late": 0}
    assert log.add_labels(pd.DataFrame([naive]), "late", "America/New_York") == 2
    log.close()


def test_oversized_bodies_get_413_unread_and_the_service_stays_quick(server):
    limit = 2_097_152  # serving.max_body_bytes
    big = b'{"rows": [' + b" " * (limit + 10) + b"]}"
    start = time.monotonic()
    declared = httpx.post(f"{server}/predict_batch", content=big, timeout=30,
                          headers={"Content-Type": "application/json"})  # fmt: skip
    assert declared.status_code == 413 and "max_body_bytes" in declared.text

    def chunks():
        yield b'{"rows": ['
        for _ in range(64):
            yield b" " * 65_536

    streamed = httpx.post(f"{server}/predict_batch", content=chunks(), timeout=30,
                          headers={"Content-Type": "application/json"})  # fmt: skip
    assert streamed.status_code == 413
    assert time.monotonic() - start < 10
    assert httpx.post(f"{server}/predict", json=GOOD, timeout=10).status_code == 200


def test_batch_scoring_scores_valid_rows_and_keeps_bad_ones_aside(trained):
    folder, config, _ = trained
    batch = folder / "batch.csv"
    batch.write_text(
        "tailnum,origin,dest,carrier,sched_dep\n"
        "N14228,EWR,IAH,UA,2013-12-30T08:15:00\n"
        "N1,EWR,,UA,2013-12-30T09:00:00\n"
        "N24211,LGA,ATL,DL,2013-06-30 17:05\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mlrig.cli", "score", str(batch), "--config", str(config)],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:]
    out = sorted(
        (folder / ".mlrig/pipeline_root").glob("mlrig-batch-scoring-*/batch-score/predictions")
    )[-1]
    predictions = pd.read_parquet(out / "predictions.parquet")
    rejected = pd.read_parquet(out / "rejected.parquet")
    assert predictions.tailnum.tolist() == ["N14228", "N24211"]
    assert predictions.probability.between(0, 1).all() and set(predictions.prediction) <= {0, 1}
    assert rejected["_reason"].tolist() == ["dest: missing (not nullable)"]


def test_service_without_a_champion_is_alive_but_not_ready(tmp_path):
    with serving(write_demo(tmp_path), tmp_path, ready_path="/livez") as base:
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 503
        answer = httpx.post(f"{base}/predict", json=GOOD, timeout=10)
        assert answer.status_code == 503 and "run the training pipeline first" in answer.text


def test_the_demo_exported_to_onnx_answers_as_the_service_with_onnxruntime_alone(
    server, trained, tmp_path
):
    import json

    import onnxruntime

    from mlrig.components.contract.to_onnx.export import feeds

    folder, config, _ = trained
    answer = httpx.post(f"{server}/predict", json=GOOD, timeout=10).json()
    cli = [sys.executable, "-m", "mlrig.cli"]
    exported = subprocess.run([*cli, "model", "export", "1", "--out", str(tmp_path / "edge"),
                               "--config", str(config)],
                              cwd=folder, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert exported.returncode == 0, exported.stdout + exported.stderr
    logged = subprocess.run([*cli, "explain", answer["request_id"], "--json", "--config", str(config)],
                            cwd=folder, capture_output=True, text=True, timeout=120)  # fmt: skip
    inputs = json.loads(logged.stdout)["inputs"]  # the model inputs the service scored
    described = json.loads((tmp_path / "edge" / "contract.json").read_text())
    session = onnxruntime.InferenceSession(str(tmp_path / "edge" / "model.onnx"))
    row = pd.DataFrame([inputs]).reindex(columns=described["inputs"])
    got = session.run(None, feeds(row, described["inputs"], described["categorical"]))[0]
    positive = described["classes"].index(described["positive_label"])
    assert abs(got[0, positive] - answer["probability"]) <= 1e-5
