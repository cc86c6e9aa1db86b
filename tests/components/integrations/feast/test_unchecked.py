"""Feast reached through mlrig is imported without typeguard's instrumentation (its import cost),
unless MLRIG_FEAST_TYPECHECKS asks for the checks; typeguard itself is left as it was."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = (
    "import typeguard; before = typeguard.typechecked\n"
    "import mlrig.components.integrations.feast.repo\n"
    "from feast.feature_view import FeatureView\n"
    "names = FeatureView.__init__.__code__.co_names\n"
    "print('instrumented' if 'check_argument_types_internal' in names else 'plain')\n"
    "print('restored' if typeguard.typechecked is before else 'replaced')\n"
)


def _probe(**extra: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "MLRIG_FEAST_TYPECHECKS"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env={**env, **extra}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_feast_is_imported_without_typeguards_instrumentation():
    assert _probe() == ["plain", "restored"]


def test_the_checks_stay_when_asked_for():
    assert _probe(MLRIG_FEAST_TYPECHECKS="1") == ["instrumented", "restored"]


def test_feast_builds_its_objects_without_the_checks():
    probe = (
        "import mlrig.components.integrations.feast.repo\n"
        "import feast\nfrom feast.types import Float64\n"
        "print(feast.Field(name='x', dtype=Float64).name)\n"
        "feast.Field(name=1, dtype=Float64)  # a wrong type passes: no instrumentation\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MLRIG_FEAST_TYPECHECKS"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.split() == ["x"], done.stderr[-2000:]
