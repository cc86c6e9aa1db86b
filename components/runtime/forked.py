"""Work on the next items in a forked process while this one works on the current item.

Batch scoring checks a chunk (validation, point-in-time features: pandas and Python) while the
model predicts the one before. In a thread the two share Python's lock; in a process of its own
the checking runs on the other core beside the predictions, and begins while this process is
still loading the model. Results come back pickled through a pipe, in order; the pipe's small
buffer holds the child back, so it is at most one item ahead, as `ahead` is.

A fork is safe only from a process with one thread: with others (a caller's pool, an engine's
workers) `forked_ahead` falls back to `ahead`'s thread, and says which it used.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO, TypeVar

from mlrig.components.runtime.ahead import ahead
from mlrig.components.runtime.process import die_with_parent

In = TypeVar("In")
Out = TypeVar("Out")
PROCESS = "process"
THREAD = "thread"
_DONE = "done"
_RESULT = "result"
_ERROR = "error"


class ChildLost(RuntimeError):
    """The forked process ended without sending its next result (killed, or out of memory)."""


def can_fork() -> bool:
    """Whether this process may fork: it can, and no other thread is running (a lock another
    thread holds at the fork would stay held in the child forever)."""
    return hasattr(os, "fork") and threading.active_count() == 1


class Ahead:
    """The results of work(item) for each item, in order, computed ahead of the caller: in a
    forked process when asked (fork) and this process has one thread (`mode` PROCESS), else in a
    thread (THREAD). Ask only in a process that has opened no database or engine yet (a
    pipeline task as it starts): a child that used an inherited connection could crash.
    Use as a context manager: the fork happens on entering, so the child starts while the caller
    does other work (loads a model); leaving stops the child, whatever state it is in."""

    def __init__(
        self,
        items: Iterable[In],
        work: Callable[[In], Out] = lambda item: item,
        in_child: Callable[[], object] | None = None,
        fork: bool = True,
    ) -> None:
        self._items, self._work, self._in_child = items, work, in_child
        self.mode = PROCESS if fork and can_fork() else THREAD
        self._pid = 0
        self._pipe: BinaryIO | None = None
        self._in_thread: Iterator[Any] | None = None

    def __enter__(self) -> Ahead:
        if self.mode == PROCESS:
            self._start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def __iter__(self) -> Iterator[Any]:
        if self.mode == THREAD:
            self._in_thread = ahead(self._items, self._work)
            yield from self._in_thread
            return
        if self._pipe is None:
            raise RuntimeError("forked_ahead: iterate inside its `with` block")
        while True:
            kind, value = self._receive()
            if kind == _DONE:
                return
            if kind == _ERROR:
                raise value
            yield value

    def _start(self) -> None:
        for stream in (sys.stdout, sys.stderr):  # else the child writes the buffered text again
            stream.flush()
        read_end, write_end = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:
            os.close(read_end)
            _child(self._items, self._work, self._in_child, write_end)  # never returns
        os.close(write_end)
        self._pipe = os.fdopen(read_end, "rb")

    def _receive(self) -> tuple[str, Any]:
        try:
            return pickle.load(self._pipe)  # type: ignore[arg-type]
        except (EOFError, pickle.UnpicklingError):
            status = self._reap()
            raise ChildLost(
                f"the checking process ended without its next result ({_said(status)})"
            ) from None

    def stop(self) -> None:
        """Close the pipe, end the child and wait for it; or stop the thread (a no-op once
        done)."""
        if self._in_thread is not None:
            self._in_thread.close()  # type: ignore[attr-defined]
            self._in_thread = None
        if self._pipe is not None:
            self._pipe.close()  # a child blocked writing gets EPIPE and ends
            self._pipe = None
        if self._pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            self._reap()

    def _reap(self) -> int | None:
        if not self._pid:
            return None
        try:
            _, status = os.waitpid(self._pid, 0)
        except ChildProcessError:
            status = None
        self._pid = 0
        return status


def forked_ahead(
    items: Iterable[In],
    work: Callable[[In], Out] = lambda item: item,
    in_child: Callable[[], object] | None = None,
    fork: bool = True,
) -> Ahead:
    """Ahead(items, work, in_child, fork): see its documentation. in_child runs first in the
    forked process (to set aside what must not be shared across a fork, such as a database
    connection)."""
    return Ahead(items, work, in_child, fork)


def _said(status: int | None) -> str:
    if status is None:
        return "its exit status is unknown"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def _child(
    items: Iterable[Any],
    work: Callable[[Any], Any],
    in_child: Callable[[], object] | None,
    write_end: int,
) -> None:
    """In the forked process: send ("result", work(item)) for each item, then ("done", None),
    or ("error", the exception) at the first failure; then leave without the parent's exit
    handlers (its files, servers and temporary folders are the parent's to close)."""
    die_with_parent(setsid=False)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    faulthandler.enable()  # a crash in a library says where, in the stage's log
    code = 0
    try:
        with os.fdopen(write_end, "wb") as pipe:
            try:
                if in_child is not None:
                    in_child()
                for item in items:
                    pickle.dump((_RESULT, work(item)), pipe, protocol=pickle.HIGHEST_PROTOCOL)
                    pipe.flush()
                pickle.dump((_DONE, None), pipe)
            except BrokenPipeError:
                raise
            except BaseException as exc:  # noqa: BLE001 (raised again in the parent)
                sent = _picklable(exc)
                sent.add_note("in the checking process:\n" + traceback.format_exc().rstrip())
                pickle.dump((_ERROR, sent), pipe)
    except BrokenPipeError:  # the parent stopped reading: nothing is waiting for the rest
        code = 0
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _picklable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling (its type and message reach the caller),
    else a RuntimeError naming it."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")
