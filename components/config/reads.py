"""Which config sections a piece of work reads, recorded as it reads them.

The stage cache keys each stage by the sections it read when it ran (cache.py): nothing is listed
by hand, so a section a stage starts reading is in its key from its next run on. The config's
own checks, run while it is parsed, are not reads (they look at every section).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

_OPEN: list[set[str]] = []  # one set per recording in progress (any thread's reads count)
_LOCAL = threading.local()  # per thread: how many pauses are in progress


@contextmanager
def recorded() -> Iterator[set[str]]:
    """The sections read (by any thread) until the block ends."""
    seen: set[str] = set()
    _OPEN.append(seen)
    try:
        yield seen
    finally:
        _OPEN.remove(seen)


@contextmanager
def paused() -> Iterator[None]:
    """This thread's reads in the block are not recorded (the config checking itself)."""
    _LOCAL.depth = getattr(_LOCAL, "depth", 0) + 1
    try:
        yield
    finally:
        _LOCAL.depth -= 1


def note(sections: Iterable[str]) -> None:
    """Record that sections were read."""
    if _OPEN and not getattr(_LOCAL, "depth", 0):
        names = list(sections)
        for seen in list(_OPEN):
            seen.update(names)
