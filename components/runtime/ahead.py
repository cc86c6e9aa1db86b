"""Work on the next item while the caller works on this one: one background thread.

Batch scoring reads, checks and fetches features for chunk i+1 while the model predicts chunk i.
Much of each step runs outside Python's lock (DuckDB's joins, LightGBM's trees, Arrow, numpy),
so on two cores the second one does work the serial loop left it idle for.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")
_DONE = object()


def ahead(items: Iterable[In], work: Callable[[In], Out], depth: int = 1) -> Iterator[Out]:
    """work(item) for each item in order, computed up to `depth` items before the caller asks.

    Reading the items happens in the thread too. An exception in either is raised to the caller
    at the item where it happened; the caller stopping early (or failing) stops the thread after
    the item under way, so memory holds at most depth + 2 results."""
    if depth < 1:
        raise ValueError(f"depth: at least one item ahead, not {depth}")
    done: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                result = work(item)
                while not stop.is_set():
                    try:
                        done.put((True, result), timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as exc:  # noqa: BLE001 (raised again in the caller's thread)
            done.put((False, exc))
            return
        done.put((True, _DONE))

    thread = threading.Thread(target=produce, name="mlrig-ahead", daemon=True)
    thread.start()
    try:
        while True:
            ok, value = done.get()
            if not ok:
                raise value
            if value is _DONE:
                return
            yield value
    finally:
        stop.set()
        _drain(done)
        thread.join()


def _drain(done: queue.Queue) -> None:
    while True:
        try:
            done.get_nowait()
        except queue.Empty:
            return
