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

PASSWORDS = servers.PASSWORDS
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
    with servers.cluster_stack(folder) as stack:
        config = write_demo(folder, sample_rows=5000, tuning_sample_rows=3000)
        run = subprocess.run(
            [sys.executable, "-m", "mlrig.cli", "run", "-c", str(config), "-p", "cluster"],
            cwd=folder, env=stack["env"], capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        log = folder / "data/last-run.log"
        assert run.returncode == 0, run.stdout[-2000:] + (
            log.read_text()[-3000:] if log.exists() else ""
        )
        yield {**stack, "folder": folder, "config": config}


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
