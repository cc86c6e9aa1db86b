"""The warm stage server of a local run: the libraries imported once, each task forked from it.

kfp.local starts every task of a pipeline as a new Python process, and each one imported
pandas, scikit-learn, LightGBM, MLflow and Feast again: 0.3-1.7 s a stage, about 6 s of the
demo, and most of a small table's run. This server listens at once and imports what the stages
of the pipeline it serves import, in the order they first need it, one step between tasks, while
the first stages run on the other core. Each task the client (pipelines/warm/client.py) hands it
gets what is loaded by then:

- a supervisor process is forked for the task; it forks the task's process and waits for it;
- the task's process takes the client's standard streams, environment, folder and arguments,
  runs `kfp.dsl.executor_main` as `python -m` would, runs the exit handlers and ends with the
  task's status (an exception: its traceback and 1, as the interpreter does);
- the supervisor sends the client the task's pid, then its wait status (a signal included).

The server stays in the run's process group (stopping the run stops it and its tasks) and ends
with the process that started it.

    python -m mlrig.pipelines.warm.server SOCKET [PIPELINE]
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import importlib
import json
import os
import runpy
import select
import shutil
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlrig.components.runtime.process import die_with_parent
from mlrig.pipelines.warm.client import FOLDER_PREFIX, LENGTH, LOADED_SUFFIX, STATUS, receive

EXECUTOR = "kfp.dsl.executor_main"
# What each stage imports first; Feast and MLflow through their integrations (which import them
# as their stages do: Feast without typeguard's checks, MLflow with telemetry off).
FEAST, MLFLOW = "feast", "mlflow"
MLFLOW_PACKAGES = "mlflow packages"  # tracking.package_map_step: for the stage that logs a model
START = ("kfp.dsl.executor", "pandas", "pyarrow.parquet")  # the executor's module: runpy's own
FEAST_STORE = (
    FEAST,
    "mlrig.components.integrations.feast.feast_store",
    "mlrig.components.integrations.feast.asof_store",
)
# skops' reader first of the model's libraries: it looks ufuncs up in every loaded module
# (modelfile.import_reader). SciPy's statistics and scikit-learn (which it imports) are steps of
# their own: in one step it was 2.9 s, and a task that came then waited for it.
SKOPS = ("scipy.stats", "sklearn.base", "skops.io")
STAGE_IMPORTS = {
    "ingest": (*START, "mlrig.components.ingest.io"),
    "validate": ("mlrig.components.validate.io",),
    "features": (*FEAST_STORE, "mlrig.components.features.io"),
    "train": (
        *SKOPS,
        "sklearn.model_selection",
        "sklearn.metrics",
        "lightgbm",
        "optuna",
        MLFLOW,
        MLFLOW_PACKAGES,
        "mlrig.components.train.io",
        "mlrig.components.train.core",
    ),
    "evaluate": (
        "mlrig.components.evaluate.io",
        "mlrig.components.evaluate.core",
        "mlrig.components.evaluate.depth",
        "mlrig.components.runtime.html_report",
    ),
    "eda": ("mlrig.components.eda.io",),
    "register": ("mlrig.components.register.io",),
    "score": (
        *START,
        *SKOPS,  # before MLflow and Feast, as the stage imports it (modelfile.import_reader)
        *FEAST_STORE,
        MLFLOW,
        "sklearn.metrics",
        "lightgbm",
        "mlrig.components.score.io",
        "mlrig.components.contract.assemble",
        "pyarrow.dataset",
    ),
}
# The stages of each pipeline in the order kfp.local runs them (materialize needs nothing more).
TRAINING = ("ingest", "validate", "features", "train", "evaluate", "eda", "register")
PIPELINE_STAGES = {"training": TRAINING, "scoring": ("score",), "scoring-parts": ("score",)}
# Pipelines of one task: once it has come, the steps left would load what no task will use, on
# a core the task needs (`mlrig score`'s task comes before its imports are done and takes them).
ONE_TASK = {"scoring"}
REAP_EVERY_S = 1.0


def preload_steps(pipeline: str) -> list[tuple[str, Callable[[], object]]]:
    """The imports of the pipeline's stages in the order it first needs them, one step each (an
    unknown pipeline: every stage's)."""
    from mlrig.components.integrations.feast import unchecked
    from mlrig.components.integrations.mlflow import tracking

    stages = PIPELINE_STAGES.get(pipeline, (*TRAINING, "score"))
    names = list(dict.fromkeys(name for stage in stages for name in STAGE_IMPORTS[stage]))
    special = {
        FEAST: unchecked.preload_steps(),
        MLFLOW: tracking.preload_steps(),
        MLFLOW_PACKAGES: [tracking.package_map_step()],
    }
    return [
        step
        for name in names
        for step in special.get(name) or [(name, functools.partial(importlib.import_module, name))]
    ]


def take_step(name: str, step: Callable[[], object]) -> None:
    """One import; one that fails is said and skipped (a task that needs it imports it itself,
    and fails as it would have)."""
    try:
        step()
    except Exception as exc:  # noqa: BLE001
        print(f"warm stages: {name} not preloaded: {type(exc).__name__}: {exc}", flush=True)


def _receive_all(conn: socket.socket, size: int) -> bytes:
    data = receive(conn, size)
    if len(data) < size:
        raise ConnectionError("the client left before sending its task")
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
    time.tzset()  # TZ as the task has it
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
    task = json.loads(_receive_all(conn, LENGTH.unpack(header)[0]))
    pid = os.fork()
    if pid == 0:
        conn.close()
        os._exit(run_task(task, streams))
    for fd in streams:
        os.close(fd)
    conn.sendall(STATUS.pack(pid))
    _, status = os.waitpid(pid, 0)
    conn.sendall(STATUS.pack(status))


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def leave_on_term(path: str) -> None:
    """On SIGTERM (its run is stopped, or the run's process died: die_with_parent) the server
    removes its run's private folder (the socket, the interpreter script) and ends by the
    signal: a run killed outright leaves nothing behind."""
    folder = Path(path).parent

    def leave(signum: int, _frame: object) -> None:
        if folder.name.startswith(FOLDER_PREFIX):  # never a folder the server was not given
            shutil.rmtree(folder, ignore_errors=True)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, leave)


def _done_loading(path: str) -> None:
    Path(path + LOADED_SUFFIX).touch()  # for whoever waits on it (the tests)


def serve(path: str, pipeline: str) -> None:
    """Listen at path, and between tasks take the next import step: a task arriving meanwhile
    waits for the step under way at most, gets what is loaded and imports the rest itself (a
    one-task pipeline's server then stops loading). Each task gets a supervisor forked for it;
    the ended ones are reaped as the server goes."""
    leave_on_term(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    steps = preload_steps(pipeline)
    while True:
        _reap()
        waiting = select.select([listener], [], [], 0 if steps else REAP_EVERY_S)[0]
        if not waiting:
            if steps:
                take_step(*steps.pop(0))
                if not steps:
                    _done_loading(path)
            continue
        conn, _ = listener.accept()
        sys.stdout.flush()
        sys.stderr.flush()
        # what is loaded is left out of the task's garbage collections: they do not walk the
        # libraries' objects (nor copy their pages by touching them), as the documentation of
        # gc.freeze advises before a fork
        gc.freeze()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the server's folder is its own
            listener.close()
            die_with_parent(setsid=False)
            try:
                supervise(conn)
            finally:
                os._exit(0)
        conn.close()
        if steps and pipeline in ONE_TASK:  # its task has come: nothing more to load for
            steps.clear()
            _done_loading(path)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
