"""Model versions in the MLflow registry: resolve an alias once, load a pinned version together
with the contract it was logged with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlrig.components.contract.contract import Contract
from mlrig.components.integrations.mlflow import integrity
from mlrig.components.runtime.catalog import CHAMPION, CONTRACT_METADATA_KEY


class NoVersion(LookupError):
    """The alias points nowhere (nothing registered or promoted yet)."""


@dataclass
class Pinned:
    """One model version, loaded once: the model, its contract, and where it came from."""

    name: str
    version: int
    run_id: str
    model: Any
    contract: Contract


def resolve(mlflow: Any, name: str, alias: str) -> int:
    """The version an alias points to now."""
    try:
        return int(mlflow.MlflowClient().get_model_version_by_alias(name, alias).version)
    except mlflow.exceptions.MlflowException as exc:
        raise NoVersion(f"no '{alias}' version of model '{name}' ({exc})") from None


def pinned_version(mlflow: Any, name: str) -> int:
    """MLRIG_MODEL_VERSION when set (`mlrig deploy` pins the serving pods so; a batch may be
    pinned the same way), else the version the champion alias points to now."""
    from mlrig.components.config import env

    chosen = (env.get(env.MODEL_VERSION) or "").strip()
    if not chosen:
        return resolve(mlflow, name, CHAMPION)
    if not chosen.isdigit() or int(chosen) < 1:
        raise ValueError(f"{env.MODEL_VERSION}: '{chosen}' is not a model version (1, 2, ...)")
    return int(chosen)


def load_contract(mlflow: Any, name: str, version: int) -> Contract:
    """The contract logged inside models:/name/version (reads the MLmodel file, not the model)."""
    info = mlflow.models.get_model_info(f"models:/{name}/{version}")
    meta = (info.metadata or {}).get(CONTRACT_METADATA_KEY)
    if meta is None:
        raise NoVersion(f"model '{name}' v{version} carries no mlrig contract: retrain it")
    return Contract.from_dict(meta)


def load_version(mlflow: Any, name: str, version: int) -> Pinned:
    """Load models:/name/version and its contract (never 'whatever the alias says now')."""
    contract = load_contract(mlflow, name, version)
    model = integrity.load_verified(mlflow, name, version)  # refuses changed files
    run_id = mlflow.MlflowClient().get_model_version(name, str(version)).run_id
    return Pinned(name, int(version), run_id, model, contract)


def load_alias(mlflow: Any, name: str, alias: str) -> Pinned:
    """Resolve the alias once, then load that version."""
    return load_version(mlflow, name, resolve(mlflow, name, alias))
