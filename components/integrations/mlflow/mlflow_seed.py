"""A new local MLflow store starts as a copy of an empty, migrated one.

MLflow builds a new SQLite tracking store by running its schema migrations, which took 0.9 s of
CPU here for every new project (and every test project). The migrated, empty schema is the same
for every store of one MLflow version, so it is built once per version in the machine's cache
(`MLRIG_CACHE_DIR`) and copied. The template holds no experiment: MLflow adds its Default one
with the opening store's own artifact root. Anything that stops the copy leaves MLflow to
migrate as before."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from mlrig.components.config import env


def seed(db_path: Path) -> bool:
    """Create the SQLite store db_path from the template, unless a file is there already.
    True when it was seeded; False leaves it to MLflow (never replaces an existing store)."""
    if db_path.exists():
        return False
    try:
        template = _template()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        part = db_path.with_name(f".{db_path.name}.{os.getpid()}.seed")
        shutil.copyfile(template, part)
        try:
            os.link(part, db_path)  # fails if another process made the store meanwhile
        finally:
            part.unlink(missing_ok=True)
        return True
    except Exception:  # no cache folder, no hard links, a failed template: MLflow migrates
        return False


def template_path() -> Path:
    """The empty store of the installed MLflow version (may not exist yet)."""
    import mlflow

    return Path(env.cache_dir()) / f"mlflow-{mlflow.__version__}-empty.db"


def _template() -> Path:
    path = template_path()
    if path.exists():
        return path
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    part.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as artifacts:
        store = SqlAlchemyStore(f"sqlite:///{part}", artifacts)
        store.engine.dispose()
    with sqlite3.connect(part) as db:
        db.execute("DELETE FROM experiments")  # MLflow re-adds Default where the store opens
    db.close()
    os.replace(part, path)
    return path
