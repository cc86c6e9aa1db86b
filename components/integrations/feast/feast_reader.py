"""Feast for processes that only read it: imported without typeguard's instrumentation.

Feast decorates its classes with typeguard's @typechecked. typeguard 4 instruments each decorated
function when the module is imported, by reading, parsing and compiling that module's whole
source again: here that is 3.5 s of Feast's 5 s import (measured with -X importtime; python -O
does not avoid it). The serving processes (the BentoML service, the read-only feature server)
only read objects that Feast itself wrote to its registry, so they import Feast with the
decorator as a no-op and start about 3.5 s sooner. The pipeline stages and the CLI, which build
Feast objects from the config, keep Feast's argument checks.
"""

from __future__ import annotations

import sys
from typing import Any


def _unchecked(target: Any = None, **_: Any) -> Any:
    """@typechecked and @typechecked(...) without instrumentation."""
    return target if target is not None else (lambda f: f)


def read_only_feast() -> None:
    """Call before anything imports Feast; later calls, or after Feast is loaded, do nothing."""
    if "feast" in sys.modules:
        return
    import typeguard

    typeguard.typechecked = _unchecked  # Feast is the only user of the decorator here
