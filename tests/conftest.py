"""Shared fixtures: a copy of the demo config in a temp folder, so every state file lands there."""

from __future__ import annotations

import os

# One BLAS/OpenMP thread in tests (and in the processes they start): the machines are shared and
# small, and an oversubscribed pool only adds noise. Set before numpy or LightGBM load.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import shutil
from pathlib import Path

import pytest
import yaml

from mlrig.components.config.loader import LoadedConfig, load

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    monkeypatch.setenv("BENTOML_DO_NOT_TRACK", "true")
    for key in ("MLRIG_CONFIG", "MLRIG_PROFILE", "MLRIG_EVENTS_FILE"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    """A folder holding a copy of the demo mlrig.yaml."""
    shutil.copy(REPO / "mlrig.yaml", tmp_path / "mlrig.yaml")
    return tmp_path


def write_demo(folder: Path, sample_rows: int | None = None, **model: object) -> Path:
    """Copy the demo config into folder, optionally sampled and with model settings changed."""
    data = yaml.safe_load((REPO / "mlrig.yaml").read_text())
    data["dataset"]["sample_rows"] = sample_rows
    data["model"].update(model)
    path = folder / "mlrig.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def load_demo(folder: Path, sample_rows: int | None = None, **model: object) -> LoadedConfig:
    return load(write_demo(folder, sample_rows, **model))
