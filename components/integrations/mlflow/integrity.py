"""The bytes that were evaluated and promoted are the bytes that get loaded.

At registration the model version's files get one SHA-256 (over each file's path and content),
kept as a registry tag. Every load (serving, batch scoring, the gate, monitoring) downloads the
files, hashes them, and refuses a mismatch before any of them is deserialized: a model file
replaced in the artifact store never runs. The files are read by modelfile.py (skops, with
mlrig's own allow-list of types).
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from mlrig.components.integrations.mlflow import modelfile

TAG = "mlrig.sha256"
CHUNK = 1 << 20


class ArtifactMismatch(RuntimeError):
    """A model version's files are not the ones recorded at registration."""


def digest(folder: Path) -> str:
    """SHA-256 over every file's relative path and content, in path order."""
    total = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        one = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                one.update(chunk)
        total.update(f"{path.relative_to(folder).as_posix()}\0{one.hexdigest()}\n".encode())
    return total.hexdigest()


def _download(mlflow: Any, name: str, version: int, dest: str) -> Path:
    return Path(mlflow.artifacts.download_artifacts(f"models:/{name}/{version}", dst_path=dest))


def record(mlflow: Any, name: str, version: int) -> str:
    """Hash a just-registered version's files and keep the digest as its registry tag."""
    with tempfile.TemporaryDirectory(prefix="mlrig-hash-") as tmp:
        value = digest(_download(mlflow, name, version, tmp))
    mlflow.MlflowClient().set_model_version_tag(name, str(version), TAG, value)
    return value


def load_verified(mlflow: Any, name: str, version: int) -> Any:
    """Download, verify against the recorded digest, and only then deserialize the model."""
    tags = mlflow.MlflowClient().get_model_version(name, str(version)).tags or {}
    want = tags.get(TAG)
    if not want:
        raise ArtifactMismatch(
            f"model '{name}' v{version} has no recorded SHA-256 ({TAG}): it was not registered "
            "by mlrig; retrain it, or register it with mlrig"
        )
    with tempfile.TemporaryDirectory(prefix="mlrig-load-") as tmp:
        local = _download(mlflow, name, version, tmp)
        got = digest(local)
        if got != want:
            raise ArtifactMismatch(
                f"model '{name}' v{version}: its files hash to {got[:16]}…, not the "
                f"{want[:16]}… recorded at registration; refusing to load a changed model"
            )
        return modelfile.load(local, pickled_ok=modelfile.pickle_allowed(name, version))
