"""The warm stage server of a local run: the libraries imported once, each task forked from it.

kfp.local starts every task of a pipeline as a new Python process, and each one imported
pandas, scikit-learn, LightGBM, MLflow and Feast again: 0.3-1.7 s a stage, about 6 s of the
demo, and most of a small table's run. This server imports them once, while the first stages
run as plain interpreters, then serves each task the client (pipelines/warm/client.py) hands
it:

- a supervisor process is forked for the task; it forks the task's process and waits for it;
- the task's process takes the client's standard streams, environment, folder and arguments,
  runs `kfp.dsl.executor_main` as `python -m` would, runs the exit handlers and ends with the
  task's status (an exception: its traceback and 1, as the interpreter does);
- the supervisor sends the client the task's pid, then its wait status (a signal included).

The server stays in the run's process group (stopping the run stops it and its tasks) and ends
with the process that started it.

    python -m mlrig.pipelines.warm.server SOCKET
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import runpy
import signal
import socket
import sys
import traceback
from typing import Any

from mlrig.components.runtime.process import die_with_parent
from mlrig.pipelines.warm.client import LENGTH, STATUS

EXECUTOR = "kfp.dsl.executor_main"
# What the stages import at their start (their io modules, and what those reach for first);
# Feast and MLflow come through their integrations (preload below).
PRELOAD = (
    *(
        f"mlrig.components.{stage}.io"
        for stage in ("ingest", "validate", "features", "eda", "train", "evaluate", "register")
    ),
    "mlrig.components.score.io",
    "mlrig.components.train.core",
    "mlrig.components.evaluate.core",
    "mlrig.components.evaluate.depth",
    "mlrig.components.contract.assemble",
    "mlrig.components.runtime.html_report",
    "lightgbm",
    "skops.io",
    "optuna",
    "pyarrow.parquet",
    "pyarrow.dataset",
    "sklearn.model_selection",
    "sklearn.metrics",
    "kfp.dsl.executor",  # what the executor's module imports; itself, runpy runs afresh
)


def preload() -> list[str]:
    """Import what the stages need; returns the modules that could not be imported (an optional
    library not installed: a task that needs it imports it itself, and fails as it would)."""
    from mlrig.components.integrations.feast import asof_store, feast_store, unchecked
    from mlrig.components.integrations.mlflow import tracking

    unchecked.preload()
    tracking.preload()
    del asof_store, feast_store
    missing = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def _receive(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the client left before sending its task")
        data += chunk
    return data


def run_task(task: dict[str, Any], streams: list[int]) -> int:
    """In the task's process: become the process the plain interpreter would have started, run
    the executor, and return its exit status."""
    for target, fd in enumerate(streams):
        os.dup2(fd, target)
        os.close(fd)
    die_with_parent(setsid=False)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(task["cwd"])
    os.environ.clear()
    os.environ.update(task["env"])
    sys.path[0] = task["cwd"]
    sys.argv = [EXECUTOR, *task["argv"]]
    try:
        runpy.run_module(EXECUTOR, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as stop:
        code = _exit_code(stop.code)
    except BaseException:
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    return code


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def supervise(conn: socket.socket) -> None:
    """In the supervisor: read the task, fork its process, report its pid and wait status."""
    header, streams, _, _ = socket.recv_fds(conn, LENGTH.size, 3)
    task = json.loads(_receive(conn, LENGTH.unpack(header)[0]))
    pid = os.fork()
    if pid == 0:
        conn.close()
        os._exit(run_task(task, streams))
    for fd in streams:
        os.close(fd)
    conn.sendall(STATUS.pack(pid))
    _, status = os.waitpid(pid, 0)
    conn.sendall(STATUS.pack(status))


def serve(path: str) -> None:
    """Import the libraries, then listen at path and fork a supervisor for each task. Until it
    listens, tasks find no socket and start as plain interpreters: the first stages run while
    the libraries load on the other core."""
    missing = preload()
    if missing:
        print(f"warm stages: not preloaded (not installed): {', '.join(missing)}", flush=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped as they end
    while True:
        conn, _ = listener.accept()
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            die_with_parent(setsid=False)
            try:
                supervise(conn)
            finally:
                os._exit(0)
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
