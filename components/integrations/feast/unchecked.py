"""Feast imported without typeguard's run-time type checks.

Feast decorates its definition classes (Entity, FeatureView, Field, the data sources, ...)
with typeguard's @typechecked, which recompiles every annotated method when the module is
imported: 3.5 of the 4.6 s `import feast` takes here, in every pipeline stage, the serving
process and the feature server. typeguard documents the decorator as a development aid that
is a no-op under `python -O`; mlrig builds every Feast object from a config it has already
checked, so Feast is imported with the decorator as that no-op. MLRIG_FEAST_TYPECHECKS=1 keeps
the checks (a feature repo being debugged)."""

from __future__ import annotations

import sys
import threading
from typing import Any

from mlrig.components.config import env

_LOCK = threading.Lock()


def _untouched(target: Any = None, **_: Any) -> Any:
    """@typechecked and @typechecked(...) as -O makes them: the target itself."""
    return target if target is not None else (lambda inner: inner)


def import_feast() -> None:
    """Import feast (once per process), its modules' @typechecked a no-op while they load."""
    if "feast" in sys.modules or env.get(env.FEAST_TYPECHECKS):
        return
    import typeguard

    with _LOCK:
        checked = typeguard.typechecked
        typeguard.typechecked = _untouched
        try:
            import feast  # noqa: F401
        finally:
            typeguard.typechecked = checked
