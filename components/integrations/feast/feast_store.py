"""The Feast adapter: repo config from mlrig config, versioned feature sets, retrieval.

A feature set is named by a hash of its *definitions* (views, columns, windows, TTLs, key types
and the tables' columns and derivations), never of its data: a model pins what its features
mean, while their values keep flowing. Two kinds of Feast objects live under a version:
- the live views `view_<version>` over `<feature_data_dir>/<version>/<view>.parquet`: what the
  champion reads offline (batch scoring, the gate) and, materialized, online. They get data when
  a model of that version is promoted (its snapshot's files, copied) and then from every
  `mlrig features materialize` (components/features/refresh.py), never from a training run;
  a live aggregate view has an online-only companion `view_<version>__next` holding each key's
  changes after the last materialization (online_schedule.py);
- a training run's snapshot views `view_<version>_<snapshot>` over
  `<version>/snapshots/<snapshot>/`, the point-in-time source of its training set. A run that
  loses, is sampled or fails writes only its own snapshot, so what the champion reads never
  changes under it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from mlrig.components.config.place import Place
from mlrig.components.config.schema import Config, Features
from mlrig.components.config.schema import FeatureView as ViewSpec
from mlrig.components.contract.contract import FeatureSet
from mlrig.components.integrations.feast import online_schedule, sources
from mlrig.components.integrations.feast.repo import open_store
from mlrig.components.integrations.feast.unchecked import import_feast
from mlrig.components.runtime.catalog import SEP
from mlrig.components.runtime.tables import release_arrow_memory

STATIC_TS = pd.Timestamp("1970-01-01", tz="UTC")
LIVE_FILE = "LIVE"  # in feature_data_dir: the version whose values the online store holds
LIVE_CHAMPION_FILE = "LIVE_CHAMPION"  # beside it: the champion version that last published


def versioned(name: str, version: str, snapshot: str = "") -> str:
    name = f"{name}_{version}" if version else name
    return f"{name}_{snapshot}" if snapshot else name


def data_dir(place: Place, version: str) -> Path:
    return place.path(place.stores.feature_data_dir) / (version or "current")


def view_data_path(place: Place, version: str, view: ViewSpec, snapshot: str = "") -> Path:
    """A view's offline table: the live one of a version, or one run's snapshot."""
    folder = data_dir(place, version)
    return (folder / "snapshots" / snapshot if snapshot else folder) / f"{view.name}.parquet"


DEFINITIONS_FILE = "definitions.json"  # in a version's folder: the sections its views are built by


def pinned_sections(cfg: Any, columns: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Everything a version's view tables are built from, as JSON: the views, entities, the
    tables they read (columns, derivations, source) and the dataset settings that type them."""
    ds = cfg.dataset
    used = sorted({v.table for v in cfg.features.views})
    return {
        "features": cfg.features.model_dump(mode="json"),
        "tables": {name: ds.tables[name].model_dump(mode="json") for name in used},
        "dataset": {
            "main": ds.main,
            "timezone": ds.timezone,
            "target": ds.target,
            "event_timestamp": ds.event_timestamp,
        },
        "columns": columns,
    }


def definitions_version(cfg: Any, columns: dict[str, dict[str, str]]) -> str:
    """A short hash of what a feature set means (its data is not part of it). A table's source
    is left out: moving a file, or a new database host, does not change what a feature is."""
    pinned = pinned_sections(cfg, columns)
    for table in pinned["tables"].values():
        table.pop("source", None)
    main = cfg.dataset.tables[cfg.dataset.main].all_columns()
    pinned["key_types"] = {e.join_key: main.get(e.join_key) for e in cfg.features.entities}
    return hashlib.sha256(json.dumps(pinned, sort_keys=True).encode()).hexdigest()[:10]


def snapshot_of(specs: Iterable[ViewSpec], frames: dict[str, pd.DataFrame]) -> str:
    """A short hash of the view tables' data (one training run's snapshot)."""
    digest = hashlib.sha256()
    for spec in specs:
        frame = frames[spec.name]
        digest.update(spec.name.encode())
        digest.update("\x1f".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    return digest.hexdigest()[:10]


def definitions(
    cfg: Config,
    place: Place,
    columns: dict[str, dict[str, str]],
    version: str = "",
    snapshot: str = "",
) -> list[Any]:
    """Entities, feature views and the feature service of one feature-set version (its live
    objects, or with a snapshot those of one training run's data).

    columns: view name -> {feature name: "str" | "float"} (features.core.feature_columns)."""
    import_feast()
    from feast import Entity, FeatureService, FeatureView, Field, ValueType
    from feast.types import Float64, Int64, String

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
    views, companions = [], []
    for spec in cfg.features.views:
        name = versioned(spec.name, version, snapshot)
        path = str(view_data_path(place, version, spec, snapshot))
        source = sources.batch_source(place, f"{name}_source", path)
        schema = [Field(name=keys[e], dtype=Int64 if is_int[e] else String) for e in spec.entities]
        schema += [
            Field(name=n, dtype=String if t == "str" else Float64)
            for n, t in columns[spec.name].items()
        ]
        tags = {"kind": spec.kind, "managed_by": "mlrig", "feature_set": version}
        if not snapshot and online_schedule.scheduled(spec):
            owners = [entities[e] for e in spec.entities]
            view_path = view_data_path(place, version, spec)
            companions.append(
                online_schedule.companion_view(place, name, schema, owners, view_path, tags)
            )
        views.append(
            FeatureView(
                name=name,
                entities=[entities[e] for e in spec.entities],
                ttl=timedelta(hours=spec.ttl_hours),
                schema=schema,
                source=source,
                online=not snapshot,
                tags={**tags, "snapshot": snapshot} if snapshot else tags,
            )
        )
    service = FeatureService(
        name=versioned(cfg.features.service, version, snapshot), features=views
    )
    return [*entities.values(), *views, *companions, service]


def load_schedules(
    place: Place,
    store: Any,
    fs: FeatureSet,
    specs: dict[str, ViewSpec],
    end: datetime,
    frames: dict[str, pd.DataFrame] | None = None,
) -> list[str]:
    """Write and load online each live aggregate view's changes after `end` (online_schedule).
    specs: logical view name -> its definition; frames: view tables already in memory.
    A set registered before schedules existed has no companion views: it is read as before."""
    import_feast()
    from feast.errors import FeatureViewNotFoundException

    loaded_views = []
    for feast_name, logical in fs.views.items():
        spec = specs[logical]
        if not online_schedule.scheduled(spec):
            continue
        companion = online_schedule.view_name(feast_name)
        try:
            store.get_feature_view(companion)
        except FeatureViewNotFoundException:
            continue
        path = view_data_path(place, fs.version, spec)
        frame = frames[logical] if frames and logical in frames else pd.read_parquet(path)
        keys = [c.name for c in store.get_feature_view(feast_name).entity_columns]
        pending = online_schedule.pending(frame, keys, end)
        write_atomic(pending, online_schedule.table_path(path), place)
        start = STATIC_TS.to_pydatetime()
        store.materialize(start_date=start, end_date=end, feature_views=[companion])
        loaded_views.append(logical)
    return loaded_views


def _feature_set(
    cfg: Any,
    version: str,
    snapshot: str,
    recency: dict[str, str],
    zero_if_missing: list[str],
    named_by_snapshot: bool,
) -> FeatureSet:
    tail = snapshot if named_by_snapshot else ""
    return FeatureSet(
        version=version,
        service=versioned(cfg.features.service, version, tail),
        views={versioned(v.name, version, tail): v.name for v in cfg.features.views},
        project=cfg.stores.feast_project,
        recency=recency,
        zero_if_missing=zero_if_missing,
        snapshot=snapshot,
    )


def write_atomic(frame: pd.DataFrame, path: Path, place: Place | None = None) -> None:
    """A table written whole or not at all; a view's table (place given) as its offline store
    reads it (sources.parquet_options)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False, **(sources.parquet_options(place) if place else {}))
    tmp.replace(path)  # atomic: a reader never sees half a file


def apply_feature_set(
    cfg: Config,
    place: Place,
    frames: dict[str, pd.DataFrame],
    columns: dict[str, dict[str, str]],
    recency: dict[str, str],
    zero_if_missing: list[str],
) -> tuple[Any, FeatureSet, FeatureSet]:
    """Write this run's view tables as a snapshot of its definitions' version and register the
    version's live objects and the snapshot's. Returns the store, the live feature set (what
    the model's contract names) and the snapshot's (what its training set is read from). The
    live tables are not touched: they change only by promotion and `features materialize`."""
    version = definitions_version(cfg, columns)
    snapshot = snapshot_of(cfg.features.views, frames)
    for spec in cfg.features.views:
        path = view_data_path(place, version, spec, snapshot)
        if not path.exists():
            write_atomic(frames[spec.name], path, place)
    live = _feature_set(cfg, version, snapshot, recency, zero_if_missing, False)
    run = _feature_set(cfg, version, snapshot, recency, zero_if_missing, True)
    store = open_store(place)
    if cfg.features.views:
        objects = {o.name: o for o in definitions(cfg, place, columns, version)}
        objects |= {o.name: o for o in definitions(cfg, place, columns, version, snapshot)}
        store.apply(list(objects.values()))
    folder = data_dir(place, version)
    folder.mkdir(parents=True, exist_ok=True)
    pinned = folder / DEFINITIONS_FILE
    if not pinned.exists():
        pinned.write_text(json.dumps(pinned_sections(cfg, columns), indent=2))
    (folder / "snapshots" / snapshot).mkdir(parents=True, exist_ok=True)
    (folder / "snapshots" / snapshot / "feature_set.json").write_text(
        json.dumps(run.__dict__, indent=2)
    )
    return store, live, run


def ensure_live_tables(place: Place, features: Features, fs: FeatureSet) -> list[str]:
    """A version's live tables, from the promoted model's snapshot where they do not exist yet
    (a new definition set going live with its model); returns the views it copied."""
    specs = {v.name: v for v in features.views}
    pinned = pinned_views(place, fs.version)
    copied = []
    for logical in fs.views.values():
        spec = pinned.get(logical) or specs[logical]
        live = view_data_path(place, fs.version, spec)
        if live.exists():
            continue
        source = view_data_path(place, fs.version, spec, fs.snapshot)
        if not fs.snapshot or not source.exists():
            raise FileNotFoundError(
                f"feature set {fs.version}: no live table of view '{logical}' and no snapshot "
                f"to start it from ({source}); run `mlrig features materialize --full`"
            )
        tmp = live.with_name(f".{live.name}.tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(live)
        copied.append(logical)
    return copied


def pinned_views(place: Place, version: str) -> dict[str, ViewSpec]:
    """The view definitions a version was registered with (its definitions.json)."""
    path = data_dir(place, version) / DEFINITIONS_FILE
    if not path.exists():
        return {}
    views = json.loads(path.read_text())["features"]["views"]
    return {v["name"]: ViewSpec.model_validate(v) for v in views}


def logical_name(column: str, fs: FeatureSet) -> str:
    """view_<version>__feature -> view__feature (the model's input name); any other column
    keeps its name."""
    view, sep, feature = column.partition(SEP)
    return f"{fs.views[view]}{SEP}{feature}" if sep and view in fs.views else column


class OfflineFeatures:
    """Point-in-time features from the offline store, as of each row's event time.

    read_as: a training run's snapshot feature set, read in place of the live set of its
    version (the training set is built from the run's own data, the contract names the live
    set)."""

    def __init__(self, store: Any, read_as: FeatureSet | None = None) -> None:
        self.store = store
        self.read_as = read_as

    def fetch(self, fs: FeatureSet, entity_df: pd.DataFrame) -> pd.DataFrame:
        if self.read_as is not None and self.read_as.version == fs.version:
            fs = self.read_as
        rows = entity_df.assign(_row=np.arange(len(entity_df)))
        job = self.store.get_historical_features(
            entity_df=rows,
            features=self.store.get_feature_service(fs.service),
            full_feature_names=True,
        )
        # row order back and entity columns dropped in Arrow, then one conversion: on millions
        table = job.to_arrow()  # of rows, pandas' sort and drops each copied the whole table
        features = [c for c in table.column_names if c not in rows.columns]
        table = table.select(features).take(pc.sort_indices(table["_row"]))
        table = table.rename_columns([logical_name(c, fs) for c in features])  # no copy
        out = table.to_pandas(split_blocks=True, self_destruct=True)
        del table
        release_arrow_memory()
        return out


def materialize(
    place: Place,
    features: Features,
    fs: FeatureSet,
    end: datetime | None = None,
    incremental: bool = False,
) -> dict:
    """Load a feature set's latest values into the online store and mark it live.

    incremental: each view that was materialized before loads only what is newer than its last
    materialized end (Feast's materialize_incremental); the others load everything."""
    end = end or datetime.now(UTC)
    loaded_from: dict[str, str] = {}
    if fs.views:
        ensure_live_tables(place, features, fs)
        store = open_store(place)
        done = {
            name
            for name in fs.views
            if incremental and store.get_feature_view(name).materialization_intervals
        }
        fresh = [name for name in fs.views if name not in done]
        if done:
            store.materialize_incremental(end_date=end, feature_views=sorted(done))
        if fresh:
            store.materialize(
                start_date=STATIC_TS.to_pydatetime(), end_date=end, feature_views=fresh
            )
        loaded_from = {
            name: "last materialized end" if name in done else "the start" for name in fs.views
        }
        specs = {v.name: v for v in features.views}
        load_schedules(place, store, fs, pinned_views(place, fs.version) or specs, end)
        publish_live_service(features.service, store, fs)
    root = place.path(place.stores.feature_data_dir)
    folder = data_dir(place, fs.version)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feature_set.json").write_text(json.dumps(fs.__dict__, indent=2))
    (root / LIVE_FILE).write_text(fs.version)
    return {"feature_set": fs.version, "until": end.isoformat(), "from": loaded_from}


def publish_live_service(service: str, store: Any, fs: FeatureSet) -> None:
    """The config's unversioned feature service, pointing at the live set's views under their
    unversioned names: apps that read features (feast serve) ask for a stable name and get what
    the champion uses, as plane_attributes__seats and so on."""
    import_feast()
    from feast import FeatureService

    views = [store.get_feature_view(name).with_name(logical) for name, logical in fs.views.items()]
    store.apply([FeatureService(name=service, features=views)])


def live_feature_set(place: Place) -> FeatureSet | None:
    """The feature set whose values the online store holds (for the feast CLI), if any."""
    root = place.path(place.stores.feature_data_dir)
    if not (root / LIVE_FILE).exists():
        return None
    version = (root / LIVE_FILE).read_text().strip()
    return FeatureSet(**json.loads((data_dir(place, version) / "feature_set.json").read_text()))
