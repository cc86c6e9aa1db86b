"""Feast imported without typeguard's run-time type checks.

Feast decorates its definition classes (Entity, FeatureView, Field, the data sources, ...)
with typeguard's @typechecked, which recompiles every annotated method when the module is
imported (it reads, parses and compiles the module's source again; `python -O` does not avoid
it): 3.5 of the 4.6 s `import feast` takes here, in every pipeline stage, the serving process
and the feature server. typeguard documents the decorator as a development aid.

Until 2026-12-05 only the reading processes (serving, the feature server, score, register)
skipped it, and the stages that build Feast objects kept the checks. They build them from a
config that was checked at load (types, names, references), so the checks could only catch an
mlrig bug, at 3.5 s a stage of every run; that is what MLRIG_FEAST_TYPECHECKS=1 is for (a
feature repo or a change to integrations/feast being debugged). The places in this package that
first reach for Feast (opening a store, building definitions, the feature server) call
import_feast() first; a process that never needs Feast (a stage whose output is cached) does
not import it at all."""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from mlrig.components.config import env

_LOCK = threading.Lock()
# What the stages' first use of the stores imports beyond `import feast`: the SQLite online
# store, the data source module the offline read reaches, DuckDB's ibis backend.
FIRST_USE = (
    "feast.infra.online_stores.sqlite",
    "feast.infra.data_sources.mlflow",
    "ibis.backends.duckdb",
)


def _untouched(target: Any = None, **_: Any) -> Any:
    """@typechecked and @typechecked(...) as -O makes them: the target itself."""
    return target if target is not None else (lambda inner: inner)


@contextlib.contextmanager
def _unchecked() -> Iterator[None]:
    """While open, typeguard's @typechecked is a no-op (unless MLRIG_FEAST_TYPECHECKS is set)."""
    if env.get(env.FEAST_TYPECHECKS):
        yield
        return
    import typeguard

    with _LOCK:
        checked = typeguard.typechecked
        typeguard.typechecked = _untouched
        try:
            yield
        finally:
            typeguard.typechecked = checked


def import_feast() -> None:
    """Import feast (once per process), its modules' @typechecked a no-op while they load."""
    if "feast" in sys.modules or env.get(env.FEAST_TYPECHECKS):
        return
    with _unchecked():
        import feast  # noqa: F401


def import_unchecked(name: str) -> None:
    """Import one module of Feast's (or one it reaches) with @typechecked a no-op."""
    with _unchecked():
        importlib.import_module(name)


def preload_steps() -> list[tuple[str, Callable[[], object]]]:
    """Import feast, then each module its stores import on first use: a warm server's preload,
    one step each (a task that comes waits for the step under way; Feast in one step was 1.2 s
    idle and more beside a running stage)."""
    first_use = [(name, functools.partial(import_unchecked, name)) for name in FIRST_USE]
    return [("feast", import_feast), *first_use]
