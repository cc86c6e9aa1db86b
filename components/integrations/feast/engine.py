"""The DuckDB connection Feast's offline store runs its queries on (ibis' default backend)."""

from __future__ import annotations

from typing import Any

_INHERITED: list[Any] = []  # connections a forked process got from its parent, kept open


def own_engine() -> None:
    """In a forked process: forget the DuckDB connection the parent may have opened (its worker
    threads stay in the parent, so a query on it here could wait for them forever); the next
    query opens this process's own. The inherited one is kept, never closed: closing it would
    join threads that are not in this process."""
    import ibis

    if ibis.options.default_backend is not None:
        _INHERITED.append(ibis.options.default_backend)
        ibis.options.default_backend = None
