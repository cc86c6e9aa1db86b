"""One demo project trained once per session (an 8,000-flight sample), shared by the modules
that serve it and attack it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import write_demo


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    config = write_demo(folder, sample_rows=8000, tuning_sample_rows=4000)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLRIG")}
    result = subprocess.run(
        [sys.executable, "-m", "mlrig.cli", "run", "--config", str(config)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return folder, config, result.stdout
