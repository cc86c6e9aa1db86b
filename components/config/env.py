"""Every environment variable mlrig reads, in one place."""

from __future__ import annotations

import os
import re

# Path of the project config file (default: ./mlrig.yaml).
CONFIG_PATH = "MLRIG_CONFIG"
# Profile layered on top of the base config (local, kind, minikube).
PROFILE = "MLRIG_PROFILE"
# Prefix for dotted-key overrides: MLRIG__MODEL__NAME=x sets model.name.
OVERRIDE_PREFIX = "MLRIG__"
# JSON-lines file that pipeline stages append their progress events to (set by `mlrig run`).
EVENTS_FILE = "MLRIG_EVENTS_FILE"
# Set (to anything) by `mlrig run --no-cache`: every stage runs, none reuses cached outputs.
NO_CACHE = "MLRIG_NO_CACHE"
# Rows `mlrig score` reads, scores and writes at a time (default 125,000): its memory follows this,
# not the file's size.
SCORE_CHUNK_ROWS = "MLRIG_SCORE_CHUNK_ROWS"
# Container image the KFP components run in.
IMAGE = "MLRIG_IMAGE"
# Placeholders of feature_repo/feature_store.yaml, for the feast CLI (`mlrig features env`).
FEAST_REGISTRY = "MLRIG_FEAST_REGISTRY"
FEAST_ONLINE_PATH = "MLRIG_FEAST_ONLINE_PATH"
FEAST_PROJECT = "MLRIG_FEAST_PROJECT"
# Set (to anything): Feast is imported with its typeguard checks (integrations/feast/unchecked.py).
FEAST_TYPECHECKS = "MLRIG_FEAST_TYPECHECKS"
# Set (to anything): each stage of a local run starts an interpreter of its own, as kfp.local
# does by default, instead of a fork of the run's warm server (pipelines/warm).
COLD_STAGES = "MLRIG_COLD_STAGES"

# PostgreSQL password (cluster profile); pods set MLRIG_PG_PASSWORD_FILE to a mounted Secret.
PG_PASSWORD = "MLRIG_PG_PASSWORD"
SECRET_FILE_SUFFIX = "_FILE"
# Where a secret is read from when neither NAME nor NAME_FILE is set (the cluster's mounted Secret).
REDIS_PASSWORD = "MLRIG_REDIS_PASSWORD"
# The prediction log's PostgreSQL role (Secret mlrig-predictions: serving and monitor pods only).
PREDLOG_PASSWORD = "MLRIG_PREDLOG_PASSWORD"
# MLflow's own client variables: the tracking server's basic-auth login (the cluster profile).
TRACKING_USERNAME = "MLFLOW_TRACKING_USERNAME"
TRACKING_PASSWORD = "MLFLOW_TRACKING_PASSWORD"
TRACKING_ADMIN = "admin"  # admin_username in manifests/base/mlflow-auth.ini
# The serving pods' read-only login (user `serving`, integrations/mlflow/tracking_users.py): its
# password, read by the MLflow pod at start (Secret mlrig-mlflow-db, key serving-password); the
# serving pods read the same value as MLFLOW_TRACKING_PASSWORD from Secret mlrig-mlflow-serving.
TRACKING_SERVING_PASSWORD = "MLRIG_MLFLOW_SERVING_PASSWORD"
# All live in the Secret mlrig-postgres (keys password, redis-password, mlflow-auth-password),
# mounted at SECRET_DIR in every mlrig pod; a source's own ${NAME} may be a key there too.
SECRET_DIR = "/run/secrets/postgres"
SECRET_DEFAULT_FILES = {
    PG_PASSWORD: f"{SECRET_DIR}/password",
    REDIS_PASSWORD: f"{SECRET_DIR}/redis-password",
    TRACKING_PASSWORD: f"{SECRET_DIR}/mlflow-auth-password",
    PREDLOG_PASSWORD: "/run/secrets/predictions/password",
    TRACKING_SERVING_PASSWORD: "/run/secrets/mlflow-db/serving-password",
}
# A model version to serve instead of resolving the champion alias (set by `mlrig deploy` through
# the serving pods' template annotation, so a rollback really returns to the previous version).
MODEL_VERSION = "MLRIG_MODEL_VERSION"
# Registered versions whose pickle-based files may be loaded (name/version, comma-separated): every
# other cloudpickle or pickle artifact is refused, whatever its MLmodel says (mlflow/modelfile.py).
ALLOW_PICKLED_MODELS = "MLRIG_ALLOW_PICKLED_MODELS"
# KFP endpoint for `mlrig pipeline submit/runs` and the cluster test tier.
KFP_HOST = "MLRIG_KFP_HOST"

DEFAULT_IMAGE = "mlrig:0.1.0"

# Folder for per-machine caches that any project may reuse (the empty MLflow store template);
# default $XDG_CACHE_HOME/mlrig, else ~/.cache/mlrig.
CACHE_DIR = "MLRIG_CACHE_DIR"

# Telemetry off: these machines (and many clusters) have no internet.
QUIET_TELEMETRY = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "BENTOML_DO_NOT_TRACK": "true",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


def get(name: str, default: str | None = None) -> str | None:
    """Read one mlrig environment variable."""
    return os.environ.get(name, default)


def overrides() -> dict[str, str]:
    """All MLRIG__A__B=value variables as {"a.b": value}."""
    return {
        key[len(OVERRIDE_PREFIX) :].lower().replace("__", "."): value
        for key, value in os.environ.items()
        if key.startswith(OVERRIDE_PREFIX)
    }


def load_secret_files() -> None:
    """For each secret variable that is unset, read it from NAME_FILE or, if that is unset too,
    from its default file where one exists (a Secret mounted in a pod)."""
    for name, default in SECRET_DEFAULT_FILES.items():
        if name in os.environ:
            continue
        path = os.environ.get(name + SECRET_FILE_SUFFIX)
        if path is None and os.path.exists(default):
            path = default
        if path:
            with open(path) as fh:
                os.environ[name] = fh.read().strip()


def image() -> str:
    """The image every KFP component runs in."""
    return os.environ.get(IMAGE) or DEFAULT_IMAGE


def quiet_telemetry() -> None:
    """Turn off phone-home telemetry of MLflow and BentoML in this process and its children."""
    for key, value in QUIET_TELEMETRY.items():
        os.environ.setdefault(key, value)


_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")


class SecretMissing(RuntimeError):
    """A ${VAR} reference whose variable is set nowhere (environment, NAME_FILE, mounted file)."""


def resolve(value: str) -> str:
    """Expand ${VAR} references at the point of use, reading secret files first."""
    if "${" not in value:
        return value
    load_secret_files()

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        value = os.environ.get(name)
        value = _secret_file(name) if value is None else value
        if value is None:
            raise SecretMissing(
                f"${{{name}}} is not set (set {name}, or {name}_FILE to a file holding it; in the "
                f"cluster, add the key {name} to the Secret mlrig-postgres)"
            )
        return value

    return _REFERENCE.sub(sub, value)


def _secret_file(name: str) -> str | None:
    """Any ${NAME} (a source's password or API token) from the file NAME_FILE names, else from
    the key NAME of the Secret the cluster's pods mount (SECRET_DIR)."""
    path = os.environ.get(name + SECRET_FILE_SUFFIX) or os.path.join(SECRET_DIR, name)
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return None


def mask(value: str) -> str:
    """A URL's literal password replaced by ***; ${VAR} references are kept (they hold no value)."""
    return _URL_PASSWORD.sub(
        lambda m: m.group(0) if m.group(2).startswith("${") else f"{m.group(1)}***{m.group(3)}",
        value,
    )


def cache_dir() -> str:
    """Where per-machine caches go (may not exist yet)."""
    if os.environ.get(CACHE_DIR):
        return os.environ[CACHE_DIR]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mlrig")
