"""A warm server's MLflow preload leaves the tasks it forks nothing to build on first use."""

import subprocess
import sys

PROBE = """
from mlrig.components.integrations.mlflow import tracking
from mlflow.utils import requirements_utils
before = requirements_utils._MODULES_TO_PACKAGES
for _, step in [*tracking.preload_steps(), tracking.package_map_step()]:
    step()
after = requirements_utils._MODULES_TO_PACKAGES
print(before is None, isinstance(after, dict) and "sklearn" in after)
"""


def test_preloading_builds_mlflows_map_of_installed_packages_once_for_every_fork():
    # a new interpreter: the map is a process-wide global that another test may have filled
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["True", "True"]
