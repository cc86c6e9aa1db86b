"""The Feast adapter: repo config from mlrig config, object definitions, apply, retrieval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from mlrig.components.config import env
from mlrig.components.config.loader import LoadedConfig
from mlrig.components.config.schema import FeatureView as ViewSpec
from mlrig.components.features.core import EVENT_TS, STATIC_TS, feature_names


def repo_config(loaded: LoadedConfig) -> Any:
    """A Feast RepoConfig: DuckDB offline store, SQLite (local) or Redis (cluster) online store."""
    from feast.repo_config import RepoConfig

    stores = loaded.config.stores
    registry: Any
    if stores.feast_registry.startswith("postgresql"):
        registry = {
            "registry_type": "sql",
            "path": stores.feast_registry,
            "cache_ttl_seconds": 60,
            "sqlalchemy_config_kwargs": {"pool_pre_ping": True},
        }
    else:
        path = loaded.path(stores.feast_registry)
        path.parent.mkdir(parents=True, exist_ok=True)
        registry = str(path)
    if stores.feast_online_type == "redis":
        online: dict[str, Any] = {"type": "redis", "connection_string": stores.feast_redis}
    else:
        online_path = loaded.path(stores.feast_online_path)
        online_path.parent.mkdir(parents=True, exist_ok=True)
        online = {"type": "sqlite", "path": str(online_path)}
    return RepoConfig(
        project=stores.feast_project,
        provider="local",
        registry=registry,
        online_store=online,
        offline_store={"type": "duckdb"},
        entity_key_serialization_version=3,
        repo_path=str(loaded.path(stores.feast_repo)),
    )


def feast_env(loaded: LoadedConfig) -> dict[str, str]:
    """Values for the ${VAR} placeholders of feature_repo/feature_store.yaml (for the feast CLI)."""
    stores = loaded.config.stores
    return {
        env.FEAST_PROJECT: stores.feast_project,
        env.FEAST_REGISTRY: str(loaded.path(stores.feast_registry)),
        env.FEAST_ONLINE_PATH: str(loaded.path(stores.feast_online_path)),
        env.CONFIG_PATH: str(loaded.root / "mlrig.yaml"),
    }


def open_store(loaded: LoadedConfig) -> Any:
    from feast import FeatureStore

    return FeatureStore(config=repo_config(loaded))


def view_data_path(loaded: LoadedConfig, view: ViewSpec) -> Path:
    return loaded.path(loaded.config.stores.feature_data_dir) / f"{view.name}.parquet"


def _dtype(loaded: LoadedConfig, spec: ViewSpec, name: str) -> Any:
    """Feast type of a feature, from the column's configured type (rolling means are floats)."""
    from feast.types import Float64, String

    if spec.kind == "rolling":
        return Float64
    column = loaded.config.dataset.tables[spec.table].columns.get(name)
    return String if column is not None and column.type == "str" else Float64


def definitions(loaded: LoadedConfig) -> list[Any]:
    """Entities, feature views and the feature service, built from config alone."""
    from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
    from feast.types import String

    cfg = loaded.config
    entities = {
        e.name: Entity(
            name=e.name,
            join_keys=[e.join_key],
            value_type=ValueType.STRING,
            description=e.description,
        )
        for e in cfg.features.entities
    }
    keys = {e.name: e.join_key for e in cfg.features.entities}
    views = []
    for spec in cfg.features.views:
        source = FileSource(
            name=f"{spec.name}_source",
            path=str(view_data_path(loaded, spec)),
            timestamp_field=EVENT_TS,
        )
        schema = [Field(name=keys[spec.entity], dtype=String)] + [
            Field(name=n, dtype=_dtype(loaded, spec, n)) for n in feature_names(spec)
        ]
        views.append(
            FeatureView(
                name=spec.name,
                entities=[entities[spec.entity]],
                ttl=timedelta(hours=spec.ttl_hours),
                schema=schema,
                source=source,
                online=True,
                tags={"kind": spec.kind, "managed_by": "mlrig"},
            )
        )
    service = FeatureService(name=cfg.features.service, features=views)
    return [*entities.values(), *views, service]


def write_and_apply(loaded: LoadedConfig, frames: dict[str, pd.DataFrame]) -> Any:
    """Write each view's offline parquet and register every object in the Feast registry."""
    for spec in loaded.config.features.views:
        path = view_data_path(loaded, spec)
        path.parent.mkdir(parents=True, exist_ok=True)
        frames[spec.name].to_parquet(path, index=False)
    store = open_store(loaded)
    store.apply(definitions(loaded))
    return store


def historical(store: Any, service: str, entity_df: pd.DataFrame) -> pd.DataFrame:
    """Point-in-time join of the feature service onto entity_df, in entity_df's row order."""
    rows = entity_df.assign(_row=range(len(entity_df)))
    job = store.get_historical_features(
        entity_df=rows, features=store.get_feature_service(service), full_feature_names=True
    )
    out = job.to_df().sort_values("_row").drop(columns="_row").reset_index(drop=True)
    out[EVENT_TS] = pd.to_datetime(out[EVENT_TS], utc=True)
    return out


def materialize(loaded: LoadedConfig, end: datetime | None = None) -> dict[str, Any]:
    """Load the latest feature values into the online store."""
    store = open_store(loaded)
    end = end or datetime.now(UTC)
    store.materialize(start_date=STATIC_TS.to_pydatetime(), end_date=end)
    return {"online_store": loaded.config.stores.feast_online_type, "until": end.isoformat()}


def online(store: Any, service: Any, entity_rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Online features of a FeatureService for entity rows, with full feature names."""
    return store.get_online_features(
        features=service,
        entity_rows=entity_rows,
        full_feature_names=True,
    ).to_dict()
