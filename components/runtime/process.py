"""Child processes that never outlive mlrig: a pipeline run holds the project's lock, runs in
its own process group, dies with its parent (even after kill -9), and is stopped as a whole."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import functools
import gc
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1
LOCK_FILE = "run.lock"


class Busy(RuntimeError):
    """Another pipeline run holds the project's lock."""


@contextlib.contextmanager
def project_lock(workdir: Path) -> Iterator[None]:
    """One pipeline run per project folder at a time; the lock goes with the process (kill -9
    included), so a dead run never blocks the next one."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / LOCK_FILE
    fh = path.open("a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "?"
        fh.close()
        raise Busy(
            f"another mlrig run is running in this project (pid {holder}); wait for it to end "
            f"or stop it ({path})"
        ) from None
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()))
    fh.flush()
    try:
        yield
    finally:
        fh.close()


def die_with_parent(setsid: bool = True) -> None:
    """Get SIGTERM when the parent process ends; with setsid, also lead a process group of its
    own (in a child between fork and exec, or in a forked child)."""
    if setsid:
        os.setsid()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(cmd: list[str], **kwargs: Any) -> subprocess.Popen:
    """Start a child in its own process group that gets SIGTERM when its parent dies."""
    return subprocess.Popen(cmd, preexec_fn=die_with_parent, **kwargs)  # noqa: PLW1509


def stop_group(proc: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM the child's whole group, then SIGKILL what is left after grace_s."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# Quick cleanups (files only) run by kill_own_group_on_term's handler before the group dies.
_BEFORE_GROUP_KILL: list[Callable[[], object]] = []


@contextlib.contextmanager
def cleaned_before_group_kill(cleanup: Callable[[], object]) -> Iterator[None]:
    """While open, a SIGTERM that kills this process's group runs cleanup first (its errors
    ignored): what a `finally` would have done, had the group not been killed."""
    _BEFORE_GROUP_KILL.append(cleanup)
    try:
        yield
    finally:
        _BEFORE_GROUP_KILL.remove(cleanup)


def kill_own_group_on_term() -> None:
    """In a pipeline runner: SIGTERM (the parent died or stopped us) takes down every stage
    process of this group at once, so no stage goes on to register or promote."""

    def handler(signum: int, frame: Any) -> None:
        for cleanup in list(_BEFORE_GROUP_KILL):
            with contextlib.suppress(Exception):
                cleanup()
        os.killpg(os.getpgid(0), signal.SIGKILL)

    signal.signal(signal.SIGTERM, handler)


@functools.cache  # registered once, however often it is called
def exit_without_collecting() -> None:
    """Let this process end without the interpreter's last garbage collections. With pandas,
    scikit-learn, MLflow and Feast loaded they took 0.4-1.0 s of every stage process's exit,
    about 4 s of the demo. Exit handlers still run, files are still flushed and the exit status
    is kept; only unreachable cycles are left to the operating system, as os._exit would."""
    atexit.register(gc.freeze)  # handlers run last-in first-out: this one after the rest
