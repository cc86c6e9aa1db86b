"""The MLflow adapter: where runs go, and the facts every run records."""

from __future__ import annotations

import functools
import importlib
import os
import re
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from mlrig.components.config import env
from mlrig.components.config.place import Place
from mlrig.components.integrations.mlflow import mlflow_seed

SQLITE_PREFIX = "sqlite:///"
FIRST_USE = (
    "mlflow",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "mlflow.sklearn",
    "mlflow.pyfunc",
    "git",
)


def tracking_uri(place: Place) -> str:
    """The tracking URI with a relative SQLite path made absolute against the config folder."""
    uri = env.resolve(place.stores.mlflow_tracking_uri)
    if uri.startswith(SQLITE_PREFIX) and not uri.startswith(SQLITE_PREFIX + "/"):
        return SQLITE_PREFIX + str(place.path(uri[len(SQLITE_PREFIX) :]))
    return uri


def preload_steps() -> list[tuple[str, Callable[[], object]]]:
    """Import MLflow with telemetry off, as configure() does, and what the stages' first use of
    it imports: the SQL stores, the model flavours, GitPython. A warm server's preload, one step
    each: a task that comes waits for the step under way."""
    return [(name, functools.partial(_import_quietly, name)) for name in FIRST_USE]


PACKAGE_MAP = "mlflow's map of installed packages"


def package_map_step() -> tuple[str, Callable[[], object]]:
    """MLflow's map of installed packages, which logging a model builds to compare its
    requirements with this environment (every installed distribution's files read: 0.85 s of
    the demo's train stage): a warm server's step for pipelines that log a model."""
    return PACKAGE_MAP, _map_installed_packages


def _import_quietly(name: str) -> None:
    env.quiet_telemetry()
    importlib.import_module(name)


def _map_installed_packages() -> None:
    requirements = importlib.import_module("mlflow.utils.requirements_utils")
    build_map = getattr(requirements, "_init_modules_to_packages_map", None)
    if build_map is not None:  # a private helper: a release without it builds its map itself
        build_map()


# The experiment this process last made the active one on a tracking server. Each request to the
# cluster profile's server costs it a password hash (its basic auth, about 0.1 s of a core), and
# finding and setting the experiment took two: a serving pod's every alias read made three
# requests where one is needed. A local SQLite store is checked on every call (a test may remove
# it and start again at the same path).
_set_on_server: tuple[str, str] | None = None


def configure(place: Place) -> Any:
    """Point MLflow at the configured store and experiment; return the mlflow module."""
    global _set_on_server
    env.quiet_telemetry()
    import mlflow

    env.load_secret_files()  # the tracking server's login, where a Secret provides one
    if os.environ.get(env.TRACKING_PASSWORD):
        os.environ.setdefault(env.TRACKING_USERNAME, env.TRACKING_ADMIN)
    uri = tracking_uri(place)
    if uri.startswith(SQLITE_PREFIX):
        mlflow_seed.seed(Path(uri[len(SQLITE_PREFIX) :]))
    mlflow.set_tracking_uri(uri)
    stores = place.stores
    served = uri.startswith(("http://", "https://"))
    if served and _set_on_server == (uri, stores.experiment):
        return mlflow
    if mlflow.get_experiment_by_name(stores.experiment) is None:
        try:
            if served:
                mlflow.create_experiment(stores.experiment)  # the server stores the artifacts
            else:
                root = stores.mlflow_artifact_root
                location = root if "://" in root else place.path(root).as_uri()
                mlflow.create_experiment(stores.experiment, artifact_location=location)
        except mlflow.exceptions.MlflowException:  # another process created it just now
            if mlflow.get_experiment_by_name(stores.experiment) is None:
                raise
    mlflow.set_experiment(stores.experiment)
    if served:
        _set_on_server = (uri, stores.experiment)
    return mlflow


def local_store_missing(place: Place) -> bool:
    """The tracking store is a SQLite file that does not exist yet (MLflow creates it on first
    use, with migrations that two processes must not run at once)."""
    uri = tracking_uri(place)
    return uri.startswith(SQLITE_PREFIX) and not Path(uri[len(SQLITE_PREFIX) :]).exists()


def git_commit(root: Path) -> str:
    """The code version: the commit of the config's repository, or 'unknown'."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# what MLflow refuses in a metric or param name (its rule, less the colon Windows refuses)
_REFUSED = re.compile(r"[^/\w.\- ]")


def metric_keys(names: Iterable[str], prefix: str = "") -> dict[str, str]:
    """Each name (a column's) as an MLflow metric key: a character MLflow refuses ('$', '(',
    '%') becomes '_', and a key two names would share is numbered ('share %', 'share #')."""
    keys: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        key = base = prefix + _REFUSED.sub("_", str(name))
        number = 2
        while key in taken:
            key, number = f"{base}_{number}", number + 1
        keys[name] = key
        taken.add(key)
    return keys
