"""Feast reached through mlrig is imported without typeguard's instrumentation (its import cost),
only when a store is opened or definitions are built, unless MLRIG_FEAST_TYPECHECKS asks for the
checks; typeguard itself is left as it was."""

from __future__ import annotations

import os
import subprocess
import sys

OPENED = (
    "import typeguard; before = typeguard.typechecked\n"
    "import sys\nfrom pathlib import Path\n"
    "from mlrig.components.integrations.feast.repo import open_repo\n"
    "print('loaded' if 'feast' in sys.modules else 'not-loaded')\n"
    "try:\n    open_repo(Path('/nonexistent'))\nexcept Exception:\n    pass\n"
    "from feast.feature_view import FeatureView\n"
    "names = FeatureView.__init__.__code__.co_names\n"
    "print('instrumented' if 'check_argument_types_internal' in names else 'plain')\n"
    "print('restored' if typeguard.typechecked is before else 'replaced')\n"
)


def _run(probe: str, **extra: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "MLRIG_FEAST_TYPECHECKS"}
    done = subprocess.run(
        [sys.executable, "-c", probe], env={**env, **extra}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_opening_a_store_imports_feast_without_typeguards_instrumentation():
    assert _run(OPENED) == ["not-loaded", "plain", "restored"]  # importing the module: no Feast


def test_the_checks_stay_when_asked_for():
    assert _run(OPENED, MLRIG_FEAST_TYPECHECKS="1") == ["not-loaded", "instrumented", "restored"]


def test_feast_builds_its_objects_without_the_checks():
    probe = (
        "from mlrig.components.integrations.feast.unchecked import import_feast\n"
        "import_feast()\n"
        "import feast\nfrom feast.types import Float64\n"
        "print(feast.Field(name='x', dtype=Float64).name)\n"
        "feast.Field(name=1, dtype=Float64)  # a wrong type passes: no instrumentation\n"
    )
    assert _run(probe) == ["x"]
