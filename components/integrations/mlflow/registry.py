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


def aliases(mlflow: Any, name: str) -> dict[str, int]:
    """Every alias of the model and the version it names, in one registry request ({} when the
    model is not registered yet). A server behind basic auth checks a password hash per request
    (a third of a second of its CPU), so a follower asks once for all the aliases it follows."""
    try:
        found = mlflow.MlflowClient().get_registered_model(name).aliases
    except mlflow.exceptions.MlflowException as exc:
        if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
            return {}
        raise
    return {alias: int(version) for alias, version in (found or {}).items()}


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


def still_as_left(mlflow: Any, name: str, version: int, run_prefix: str, champion: int) -> bool:
    """Whether version `version` of `name` still exists from an active run whose id starts with
    `run_prefix`, and the champion alias still points to `champion`. Anything that cannot be
    checked counts as changed."""
    try:
        client = mlflow.MlflowClient()
        run_id = client.get_model_version(name, str(version)).run_id
        if not run_prefix or not run_id.startswith(run_prefix):
            return False
        if mlflow.get_run(run_id).info.lifecycle_stage != "active":
            return False
        return resolve(mlflow, name, CHAMPION) == champion
    except Exception:  # a store that cannot answer, or no champion: the run goes ahead
        return False
