"""Shared fixtures: a copy of the demo config in a temp folder, so every state file lands there."""

from __future__ import annotations

import os

# One BLAS/OpenMP thread in tests (and in the processes they start): the machines are shared and
# small, and an oversubscribed pool only adds noise. Set before numpy or LightGBM load.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import shutil
import sqlite3
from datetime import date, datetime
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


_SQLITE_ADAPTED = [(datetime, sqlite3.PrepareProtocol), (date, sqlite3.PrepareProtocol)]
_SQLITE_CONVERTED = ["TIMESTAMP", "DATE", "DATETIME"]


@pytest.fixture(autouse=True)
def _sqlite_adapters_stay_feasts():
    """sqlite3's datetime adapters are process-wide: Feast's SQLite online store registers its own,
    and a test that replaces them (pandas' to_sql on a plain sqlite3 connection does) breaks every
    later test in the process that writes the online store. Such a test fails here, by name."""
    import feast.infra.online_stores.sqlite  # noqa: F401  (registers Feast's adapters once)

    adapters = {key: sqlite3.adapters.get(key) for key in _SQLITE_ADAPTED}
    converters = {name: sqlite3.converters.get(name) for name in _SQLITE_CONVERTED}
    yield
    changed = [k[0].__name__ for k, v in adapters.items() if sqlite3.adapters.get(k) is not v]
    changed += [name for name, v in converters.items() if sqlite3.converters.get(name) is not v]
    sqlite3.adapters.update(adapters)
    sqlite3.converters.update(converters)
    if changed:
        pytest.fail(f"this test replaced sqlite3's process-wide adapters or converters {changed}: "
                    "write test tables through tests.sqlite_tables.write_table")  # fmt: skip


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
