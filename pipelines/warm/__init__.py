"""Warm stages for kfp.local's SubprocessRunner: one server imports the stages' libraries once
per run and each task is forked from it (server.py); kfp.local is given an interpreter that hands
it the task (client.py). MLRIG_COLD_STAGES=1 turns it off."""

from __future__ import annotations

import contextlib
import functools
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mlrig.components.config import env
from mlrig.components.runtime.process import cleaned_before_group_kill, die_with_parent
from mlrig.pipelines.warm.client import FOLDER_PREFIX, LOADED_SUFFIX

CLIENT = Path(__file__).with_name("client.py")
SOCKET_NAME = "tasks.sock"
LOADED_NAME = SOCKET_NAME + LOADED_SUFFIX
INTERPRETER_NAME = "python"


def _short_folder() -> Path:
    """A private folder whose socket path fits AF_UNIX's 107 bytes (TMPDIR may be deep)."""
    for parent in (None, "/tmp"):
        folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=parent))
        if len(str(folder / SOCKET_NAME).encode()) <= 100:
            return folder
        folder.rmdir()
    raise RuntimeError("no folder for the warm stage server's socket has a short enough path")


def interpreter_script(folder: Path, socket_path: Path, python: str) -> Path:
    """The executable kfp.local runs in place of python3: the client with the real interpreter,
    isolated (-I) and without site-packages (-S), since it needs only the standard library."""
    script = folder / INTERPRETER_NAME
    args = " ".join(
        shlex.quote(a) for a in (python, "-I", "-S", str(CLIENT), str(socket_path), python)
    )
    script.write_text(f'#!/bin/sh\nexec {args} "$@"\n')
    script.chmod(0o700)
    return script


def _off(reason: Exception) -> None:
    print(f"warm stages off ({reason}): each stage starts its own interpreter", flush=True)


def start_server(python: str, pipeline: str) -> tuple[Path, subprocess.Popen] | None:
    """The interpreter script and the server behind it, or None (said) when there is no place
    for its socket: then the stages start cold."""
    try:
        folder = _short_folder()
    except (OSError, RuntimeError) as exc:
        return _off(exc)
    socket_path = folder / SOCKET_NAME
    try:
        script = interpreter_script(folder, socket_path, python)
        server = subprocess.Popen(  # same process group as the run: stopping the run stops it
            [python, "-m", "mlrig.pipelines.warm.server", str(socket_path), pipeline],
            preexec_fn=lambda: die_with_parent(setsid=False),  # noqa: PLW1509
        )
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)  # nothing left behind
        return _off(exc)
    return script, server


@contextlib.contextmanager
def warm_stages(pipeline: str = "training") -> Iterator[Path | None]:
    """While open, kfp.local's SubprocessRunner (which starts each task with sys.executable)
    runs tasks as forks of a warm server that loads what the pipeline's stages import; yields
    the interpreter script, or None when MLRIG_COLD_STAGES is set or the server cannot start."""
    python = sys.executable
    started = None if env.get(env.COLD_STAGES) else start_server(python, pipeline)
    if started is None:
        yield None
        return
    script, server = started
    remove = functools.partial(shutil.rmtree, script.parent, ignore_errors=True)
    sys.executable = str(script)
    try:
        with cleaned_before_group_kill(remove):  # a stopped run leaves no folder behind
            yield script
    finally:
        sys.executable = python
        server.terminate()
        server.wait()
        remove()
