"""The Feast adapter: repo config from mlrig config, versioned feature sets, retrieval.

A feature set is the Feast objects one training run registers: each view and the feature service
get the set's version in their names (a hash of the view definitions and their data), and their
offline data lives in a folder of that version. A later run registers new objects beside them,
so the champion's features (offline and online) never change under it; the online store gets a
set's values only when a model that uses it is promoted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from mlrig.components.common.catalog import EVENT_TS, SEP
from mlrig.components.common.contract import FeatureSet
from mlrig.components.config import env
from mlrig.components.config.loader import LoadedConfig
from mlrig.components.config.schema import FeatureView as ViewSpec

STATIC_TS = pd.Timestamp("1970-01-01", tz="UTC")
LIVE_FILE = "LIVE"  # in feature_data_dir: the version whose values the online store holds


def repo_config(loaded: LoadedConfig) -> Any:
    """A Feast RepoConfig: DuckDB offline store (its point-in-time join as ASOF JOINs:
    asof_store), SQLite (local) or Redis (cluster) online store."""
    from feast.repo_config import RepoConfig

    from mlrig.components.common.asof_store import TYPE as ASOF_OFFLINE_STORE

    stores = loaded.config.stores
    registry: Any
    if stores.feast_registry.startswith("postgresql"):
        registry = {
            "registry_type": "sql",
            "path": env.resolve(stores.feast_registry),
            "cache_ttl_seconds": 60,
            "sqlalchemy_config_kwargs": {"pool_pre_ping": True},
        }
    else:
        path = loaded.path(stores.feast_registry)
        path.parent.mkdir(parents=True, exist_ok=True)
        registry = str(path)
    if stores.feast_online_type == "redis":
        online: dict[str, Any] = {
            "type": "redis",
            "connection_string": env.resolve(stores.feast_redis),
        }
    else:
        online_path = loaded.path(stores.feast_online_path)
        online_path.parent.mkdir(parents=True, exist_ok=True)
        online = {"type": "sqlite", "path": str(online_path)}
    return RepoConfig(
        project=stores.feast_project,
        provider="local",
        registry=registry,
        online_store=online,
        offline_store={"type": ASOF_OFFLINE_STORE},
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


def versioned(name: str, version: str) -> str:
    return f"{name}_{version}" if version else name


def data_dir(loaded: LoadedConfig, version: str) -> Path:
    return loaded.path(loaded.config.stores.feature_data_dir) / (version or "current")


def view_data_path(loaded: LoadedConfig, version: str, view: ViewSpec) -> Path:
    return data_dir(loaded, version) / f"{view.name}.parquet"


def version_of(specs: Iterable[ViewSpec], frames: dict[str, pd.DataFrame]) -> str:
    """A short hash of the view definitions and their data."""
    digest = hashlib.sha256()
    for spec in specs:
        digest.update(spec.model_dump_json().encode())
        frame = frames[spec.name]
        digest.update("\x1f".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    return digest.hexdigest()[:10]


def definitions(
    loaded: LoadedConfig, columns: dict[str, dict[str, str]], version: str = ""
) -> list[Any]:
    """Entities, feature views and the feature service of one feature-set version.

    columns: view name -> {feature name: "str" | "float"} (features.core.feature_columns)."""
    from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64, Int64, String

    cfg = loaded.config
    main = cfg.dataset.tables[cfg.dataset.main].all_columns()
    is_int = {e.name: main.get(e.join_key) == "int" for e in cfg.features.entities}
    entities = {
        e.name: Entity(
            name=e.name,
            join_keys=[e.join_key],
            value_type=ValueType.INT64 if is_int[e.name] else ValueType.STRING,
            description=e.description,
        )
        for e in cfg.features.entities
    }
    keys = {e.name: e.join_key for e in cfg.features.entities}
    views = []
    for spec in cfg.features.views:
        name = versioned(spec.name, version)
        source = FileSource(
            name=f"{name}_source",
            path=str(view_data_path(loaded, version, spec)),
            timestamp_field=EVENT_TS,
        )
        schema = [Field(name=keys[e], dtype=Int64 if is_int[e] else String) for e in spec.entities]
        schema += [
            Field(name=n, dtype=String if t == "str" else Float64)
            for n, t in columns[spec.name].items()
        ]
        views.append(
            FeatureView(
                name=name,
                entities=[entities[e] for e in spec.entities],
                ttl=timedelta(hours=spec.ttl_hours),
                schema=schema,
                source=source,
                online=True,
                tags={"kind": spec.kind, "managed_by": "mlrig", "feature_set": version},
            )
        )
    service = FeatureService(name=versioned(cfg.features.service, version), features=views)
    return [*entities.values(), *views, service]


def apply_feature_set(
    loaded: LoadedConfig,
    frames: dict[str, pd.DataFrame],
    columns: dict[str, dict[str, str]],
    recency: dict[str, str],
    zero_if_missing: list[str],
) -> tuple[Any, FeatureSet]:
    """Write each view's offline parquet under its version and register the versioned objects.
    A version that already exists (same definitions, same data) is reused as it is."""
    cfg = loaded.config
    version = version_of(cfg.features.views, frames)
    folder = data_dir(loaded, version)
    for spec in cfg.features.views:
        path = view_data_path(loaded, version, spec)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            frames[spec.name].to_parquet(tmp, index=False)
            tmp.replace(path)  # atomic: a reader never sees half a file
    fs = FeatureSet(
        version=version,
        service=versioned(cfg.features.service, version),
        views={versioned(v.name, version): v.name for v in cfg.features.views},
        project=cfg.stores.feast_project,
        recency=recency,
        zero_if_missing=zero_if_missing,
    )
    store = open_store(loaded)
    if cfg.features.views:
        store.apply(definitions(loaded, columns, version))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feature_set.json").write_text(json.dumps(fs.__dict__, indent=2))
    return store, fs


def logical_names(frame: pd.DataFrame, fs: FeatureSet) -> pd.DataFrame:
    """view_<version>__feature -> view__feature (the model's input names)."""
    renames = {}
    for column in frame.columns:
        view, sep, feature = str(column).partition(SEP)
        if sep and view in fs.views:
            renames[column] = f"{fs.views[view]}{SEP}{feature}"
    return frame.rename(columns=renames)


class OfflineFeatures:
    """Point-in-time features from the offline store, as of each row's event time."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def fetch(self, fs: FeatureSet, entity_df: pd.DataFrame) -> pd.DataFrame:
        rows = entity_df.assign(_row=range(len(entity_df)))
        job = self.store.get_historical_features(
            entity_df=rows,
            features=self.store.get_feature_service(fs.service),
            full_feature_names=True,
        )
        out = job.to_df().sort_values("_row").drop(columns="_row").reset_index(drop=True)
        return logical_names(out.drop(columns=list(entity_df.columns), errors="ignore"), fs)


def materialize(
    loaded: LoadedConfig, fs: FeatureSet, end: datetime | None = None, incremental: bool = False
) -> dict:
    """Load a feature set's latest values into the online store and mark it live.

    incremental: each view that was materialized before loads only what is newer than its last
    materialized end (Feast's materialize_incremental); the others load everything."""
    end = end or datetime.now(UTC)
    loaded_from: dict[str, str] = {}
    if fs.views:
        store = open_store(loaded)
        done = {name for name in fs.views if incremental and
                store.get_feature_view(name).materialization_intervals}  # fmt: skip
        fresh = [name for name in fs.views if name not in done]
        if done:
            store.materialize_incremental(end_date=end, feature_views=sorted(done))
        if fresh:
            store.materialize(start_date=STATIC_TS.to_pydatetime(), end_date=end,
                              feature_views=fresh)  # fmt: skip
        loaded_from = {name: "last materialized end" if name in done else "the start"
                       for name in fs.views}  # fmt: skip
        publish_live_service(loaded, store, fs)
    root = loaded.path(loaded.config.stores.feature_data_dir)
    root.mkdir(parents=True, exist_ok=True)
    (root / LIVE_FILE).write_text(fs.version)
    return {"feature_set": fs.version, "until": end.isoformat(), "from": loaded_from}


def publish_live_service(loaded: LoadedConfig, store: Any, fs: FeatureSet) -> None:
    """The config's unversioned feature service, pointing at the live set's views under their
    unversioned names: apps that read features (feast serve) ask for a stable name and get what
    the champion uses, as plane_attributes__seats and so on."""
    from feast import FeatureService

    views = [store.get_feature_view(name).with_name(logical) for name, logical in fs.views.items()]
    store.apply([FeatureService(name=loaded.config.features.service, features=views)])


def live_feature_set(loaded: LoadedConfig) -> FeatureSet | None:
    """The feature set whose values the online store holds (for the feast CLI), if any."""
    root = loaded.path(loaded.config.stores.feature_data_dir)
    if not (root / LIVE_FILE).exists():
        return None
    version = (root / LIVE_FILE).read_text().strip()
    return FeatureSet(**json.loads((data_dir(loaded, version) / "feature_set.json").read_text()))
