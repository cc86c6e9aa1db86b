"""Serving imports Feast without typeguard's instrumentation (feast/feast_reader.py)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
from mlrig.components.integrations.feast.feast_reader import read_only_feast
read_only_feast()
import feast, typeguard
from feast.types import Float64
feast.Field(name="x", dtype=Float64)            # Feast works
feast.Field(name=1, dtype=Float64)              # and its argument checks are not instrumented
print(typeguard.typechecked.__name__)
"""


def test_feast_is_imported_uninstrumented_in_a_reading_process():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "_unchecked"


def test_it_does_nothing_once_feast_is_loaded():
    import feast  # noqa: F401
    import typeguard

    from mlrig.components.integrations.feast.feast_reader import read_only_feast

    before = typeguard.typechecked
    read_only_feast()
    assert typeguard.typechecked is before
