"""A new local MLflow store is a copy of an empty migrated one: the same schema as MLflow's own
migrations give, MLflow's Default experiment where the store opens, and never over a store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

from mlrig.components.integrations.mlflow import mlflow_seed


def _ddl(sql: str | None) -> list[str]:
    """A statement's lines, sorted: MLflow's own migrations list a table's constraints in an
    order that varies from run to run (two stores it migrates itself differ so)."""
    return sorted(line.strip().rstrip(",") for line in (sql or "").splitlines())


def _schema(path: Path) -> tuple[list, list]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        tables = sorted((kind, name, table, _ddl(sql)) for kind, name, table, sql in rows)
        version = db.execute("SELECT version_num FROM alembic_version").fetchall()
    db.close()
    return tables, version


def test_a_seeded_store_has_mlflows_own_schema_and_works(tmp_path, monkeypatch):
    monkeypatch.setenv("MLRIG_CACHE_DIR", str(tmp_path / "cache"))
    seeded, migrated = tmp_path / "a" / "mlflow.db", tmp_path / "b.db"
    assert mlflow_seed.seed(seeded)
    assert mlflow_seed.template_path().exists()
    SqlAlchemyStore(f"sqlite:///{migrated}", str(tmp_path / "b-art")).engine.dispose()
    assert _schema(seeded) == _schema(migrated)

    store = SqlAlchemyStore(f"sqlite:///{seeded}", str(tmp_path / "a-art"))
    default = store.get_experiment("0")  # made on open, with this store's artifact root
    assert default.name == "Default" and default.artifact_location.endswith("a-art/0")
    experiment = store.create_experiment("shop")
    assert experiment == "1"  # as in a store MLflow migrated itself
    run = store.create_run(experiment, "u", 0, [], "r")
    assert store.get_run(run.info.run_id).info.experiment_id == "1"
    store.engine.dispose()
    # a second project copies the same template, and starts as empty as the first did
    other = tmp_path / "c.db"
    assert mlflow_seed.seed(other)
    with sqlite3.connect(other) as db:
        assert db.execute("SELECT COUNT(*) FROM experiments").fetchone() == (0,)
    db.close()


def test_an_existing_store_is_never_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("MLRIG_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "mlflow.db"
    path.write_bytes(b"someone's store")
    assert not mlflow_seed.seed(path)
    assert path.read_bytes() == b"someone's store"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".seed")] == []


def test_without_a_usable_cache_mlflow_migrates_as_before(tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("MLRIG_CACHE_DIR", str(blocked / "mlrig"))
    path = tmp_path / "mlflow.db"
    assert not mlflow_seed.seed(path) and not path.exists()
    store = SqlAlchemyStore(f"sqlite:///{path}", str(tmp_path / "art"))
    assert store.get_experiment("0").name == "Default"
    store.engine.dispose()
