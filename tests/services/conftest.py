"""The services tier's shared stack: the demo trained once on the cluster profile against real
PostgreSQL, Redis and MLflow servers on loopback, and served processes stopped after each test."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import write_demo
from tests.services import servers

PASSWORDS = {"mlflow": "mlflow-test-only", "feast": "feast-test-only", "redis": "redis-test-only",
             "mlflow-auth": "mlflow-auth-test-only", "predictions": "predictions-test-only",
             "mlflow-serving": "mlflow-serving-test-only"}  # fmt: skip
GOOD = {"tailnum": "N14228", "origin": "EWR", "dest": "IAH", "carrier": "UA",
        "sched_dep": "2013-12-30T08:15:00"}  # fmt: skip


@pytest.fixture(scope="package")
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
                                   PASSWORDS["mlflow-auth"],
                                   PASSWORDS["mlflow-serving"]) as mlflow_url:  # fmt: skip
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
                "MLRIG_PREDLOG_PASSWORD": PASSWORDS["predictions"],
                "MLRIG__STORES__PREDICTION_LOG": "postgresql://predictions:"
                    f"${{MLRIG_PREDLOG_PASSWORD}}@127.0.0.1:{pg}/predictions",
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
            # what the serving pods hold: the read-only login (tracking_users.py), no admin's
            serving_env = {**env, "MLFLOW_TRACKING_USERNAME": "serving",
                           "MLFLOW_TRACKING_PASSWORD": PASSWORDS["mlflow-serving"]}  # fmt: skip
            yield {"folder": folder, "config": config, "env": env, "serving_env": serving_env, "pg": pg, "redis": redis.port,
                   "redis_server": redis, "mlflow": mlflow_url}  # fmt: skip


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


def died(proc: subprocess.Popen) -> str | None:
    return proc.log_path.read_text()[-3000:] if proc.poll() is not None else None
