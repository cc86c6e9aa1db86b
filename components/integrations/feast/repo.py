"""The Feast repo mlrig's config describes: its RepoConfig (the ASOF DuckDB offline store; SQLite
locally or Redis in the cluster online; a file or PostgreSQL registry), the feast CLI's
environment, and the store opened from it or from a folder's feature_store.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlrig.components.config import env
from mlrig.components.config.place import Place
from mlrig.components.integrations.feast import sources
from mlrig.components.integrations.feast.unchecked import import_feast


def repo_config(place: Place) -> Any:
    """A Feast RepoConfig: DuckDB offline store (its point-in-time join as ASOF JOINs:
    asof_store) or Spark's (sources.py), SQLite (local) or Redis (cluster) online store."""
    import_feast()
    from feast.repo_config import RepoConfig

    from mlrig.components.integrations.feast.asof_store import TYPE as ASOF_OFFLINE_STORE

    stores = place.stores
    registry: Any
    if stores.feast_registry.startswith("postgresql"):
        registry = {
            "registry_type": "sql",
            "path": env.resolve(stores.feast_registry),
            "cache_ttl_seconds": 60,
            "sqlalchemy_config_kwargs": {"pool_pre_ping": True},
        }
    else:
        path = place.path(stores.feast_registry)
        path.parent.mkdir(parents=True, exist_ok=True)
        registry = str(path)
    if stores.feast_online_type == "redis":
        online: dict[str, Any] = {
            "type": "redis",
            "connection_string": env.resolve(stores.feast_redis),
        }
    else:
        online_path = place.path(stores.feast_online_path)
        online_path.parent.mkdir(parents=True, exist_ok=True)
        online = {"type": "sqlite", "path": str(online_path)}
    return RepoConfig(
        project=stores.feast_project,
        provider="local",
        registry=registry,
        online_store=online,
        offline_store=sources.offline_store(place, ASOF_OFFLINE_STORE),
        entity_key_serialization_version=3,
        repo_path=str(place.path(stores.feast_repo)),
    )


def feast_env(place: Place) -> dict[str, str]:
    """Values for the ${VAR} placeholders of feature_repo/feature_store.yaml (for the feast CLI)."""
    stores = place.stores
    return {
        env.FEAST_PROJECT: stores.feast_project,
        env.FEAST_REGISTRY: str(place.path(stores.feast_registry)),
        env.FEAST_ONLINE_PATH: str(place.path(stores.feast_online_path)),
        env.CONFIG_PATH: str(place.root / "mlrig.yaml"),
    }


def open_store(place: Place) -> Any:
    import_feast()
    from feast import FeatureStore

    return FeatureStore(config=repo_config(place))


def open_repo(folder: Path) -> Any:
    """The feature store of a folder holding a feature_store.yaml (a cluster's own)."""
    import_feast()
    from feast import FeatureStore

    return FeatureStore(repo_path=str(folder))
