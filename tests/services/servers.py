"""Real PostgreSQL, Redis and MLflow servers on loopback for the cluster-profile tier.

Each starts on a free port in its own folder and is stopped by PID (never by name)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def missing() -> list[str]:
    """Binaries this tier needs that are not installed."""
    need = {"redis-server": shutil.which("redis-server"), "initdb": (PG_BIN / "initdb").exists()}
    return [name for name, ok in need.items() if not ok]


def _wait(check, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise TimeoutError(f"{what} did not start in {timeout:.0f} s")


@contextmanager
def postgres(passwords: dict[str, str]) -> Iterator[int]:
    """PostgreSQL 15 set up by the manifests' own init script (manifests/base/postgres-init.sh):
    roles mlflow, feast and predictions, each owning its own database. passwords: mlflow, feast,
    predictions. Yields the port."""
    folder = Path(tempfile.mkdtemp(prefix="mlrig-pg-"))
    folder.chmod(0o755)
    shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", free_port()
    secrets = folder / "secrets"  # what the Secret mlrig-db-admin mounts in the pod
    secrets.mkdir()
    for who in ("mlflow", "feast", "predictions"):
        (secrets / f"{who}-password").write_text(passwords[who])
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_pg, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)  # fmt: skip
    # Local socket connections are trusted (the superuser's), TCP ones need a password, as in the pod.
    (data / "pg_hba.conf").write_text(
        "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
    )
    subprocess.run(
        [*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"), "-o",
         f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={folder}", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        script = Path(__file__).resolve().parents[2] / "manifests/base/postgres-init.sh"
        subprocess.run([*as_pg, "env", f"MLRIG_DB_SECRETS={secrets}", "POSTGRES_USER=postgres",
                        f"PGHOST={folder}", f"PGPORT={port}", "sh", str(script)],
                       check=True, capture_output=True)  # fmt: skip
        yield port
    finally:
        subprocess.run([*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


class RedisServer:
    """redis-server on loopback with a password and protected mode on (as in the manifests);
    stop() saves and shuts it down, start() brings it back with the same data on the same port."""

    def __init__(self, password: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="mlrig-redis-"))
        self.port = free_port()
        self.password = password
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder), "--protected-mode", "yes",
             "--requirepass", self.password],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def ready() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        _wait(ready, "redis")

    def stop(self) -> None:
        """SHUTDOWN SAVE: the data is written to dump.rdb, which start() loads again."""
        import redis as client

        with contextlib.suppress(client.exceptions.ConnectionError):
            client.Redis(port=self.port, password=self.password).shutdown(save=True)
        if self.proc is not None:
            self.proc.wait(timeout=20)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def redis(password: str) -> Iterator[RedisServer]:
    server = RedisServer(password)
    try:
        server.start()
        yield server
    finally:
        server.close()


@contextmanager
def mlflow_server(
    backend_uri: str, artifacts: Path, admin_password: str, serving_password: str
) -> Iterator[str]:
    """`mlflow server` as in the cluster: SQL backend, artifacts served by the server, and the
    basic-auth app configured by the manifests' own mlflow-auth.ini (its user store moved here),
    with the read-only `serving` user created first, as the pod's command does."""
    port = free_port()
    artifacts.mkdir(parents=True, exist_ok=True)
    ini = Path(__file__).resolve().parents[2] / "manifests/base/mlflow-auth.ini"
    auth = artifacts.parent / "basic_auth.ini"
    auth.write_text(ini.read_text().replace("sqlite:////mlartifacts/basic_auth.db",
                                            f"sqlite:///{artifacts.parent}/basic_auth.db"))  # fmt: skip
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
           "MLFLOW_AUTH_CONFIG_PATH": str(auth), "MLFLOW_AUTH_ADMIN_PASSWORD": admin_password,
           "MLFLOW_FLASK_SERVER_SECRET_KEY": "csrf-key-test-only",
           "MLRIG_MLFLOW_SERVING_PASSWORD": serving_password}  # fmt: skip
    subprocess.run([sys.executable, "-m", "mlrig.components.integrations.mlflow.tracking_users"], env=env,
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--app-name", "basic-auth",
         "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--backend-store-uri", backend_uri,
         "--artifacts-destination", str(artifacts), "--serve-artifacts"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            try:
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _wait(ready, "mlflow server", timeout=120)
        yield url
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


# test-only passwords, one per Secret key the manifests define
PASSWORDS = {"mlflow": "mlflow-test-only", "feast": "feast-test-only", "redis": "redis-test-only",
             "mlflow-auth": "mlflow-auth-test-only", "predictions": "predictions-test-only",
             "mlflow-serving": "mlflow-serving-test-only"}  # fmt: skip


@contextmanager
def cluster_stack(folder: Path) -> Iterator[dict]:
    """PostgreSQL, Redis and the MLflow server as the cluster profile uses them, with the
    environment a pipeline pod has (`env`: the admin's MLflow login) and the one a serving pod
    has (`serving_env`: the read-only login); the project's files and state go in folder."""
    with postgres(PASSWORDS) as pg, redis(PASSWORDS["redis"]) as redis_server:
        backend = f"postgresql+psycopg2://mlflow:{PASSWORDS['mlflow']}@127.0.0.1:{pg}/mlflow"
        with mlflow_server(backend, folder / "artifacts", PASSWORDS["mlflow-auth"],
                           PASSWORDS["mlflow-serving"]) as mlflow_url:  # fmt: skip
            env = {k: v for k, v in os.environ.items() if not k.startswith("MLRIG")}
            env.update({
                "MLRIG_PG_PASSWORD": PASSWORDS["feast"],
                "MLRIG_REDIS_PASSWORD": PASSWORDS["redis"],
                "MLRIG_PREDLOG_PASSWORD": PASSWORDS["predictions"],
                "MLFLOW_TRACKING_PASSWORD": PASSWORDS["mlflow-auth"],  # the user: admin, by default
                "MLRIG__WORKDIR": str(folder / "data"),
                "MLRIG__STORES__MLFLOW_TRACKING_URI": mlflow_url,
                "MLRIG__STORES__FEAST_REDIS":
                    f"127.0.0.1:{redis_server.port},password=${{MLRIG_REDIS_PASSWORD}}",
                "MLRIG__STORES__FEAST_REGISTRY":
                    f"postgresql+psycopg2://feast:${{MLRIG_PG_PASSWORD}}@127.0.0.1:{pg}/feast",
                "MLRIG__STORES__FEATURE_DATA_DIR": str(folder / "data/feature_data"),
                "MLRIG__STORES__PREDICTION_LOG": "postgresql://predictions:"
                    f"${{MLRIG_PREDLOG_PASSWORD}}@127.0.0.1:{pg}/predictions",
                "MLRIG__SERVING__HOST": "127.0.0.1",
            })  # fmt: skip
            serving_env = {**env, "MLFLOW_TRACKING_USERNAME": "serving",
                           "MLFLOW_TRACKING_PASSWORD": PASSWORDS["mlflow-serving"]}  # fmt: skip
            yield {"env": env, "serving_env": serving_env, "pg": pg, "redis": redis_server.port,
                   "redis_server": redis_server, "mlflow": mlflow_url}  # fmt: skip
