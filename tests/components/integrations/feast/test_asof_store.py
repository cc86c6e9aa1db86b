"""The ASOF offline store answers exactly what Feast's own DuckDB store answers.

Both stores run on one real Feast repo (file sources, a local registry) with the edge cases of a
point-in-time join: TTL expiry, keys with no feature rows, entity rows older than every feature
row, int and string keys, null feature values, duplicate entity rows, a view with no TTL and
times in other zones."""

from __future__ import annotations

from datetime import timedelta

import ibis
import numpy as np
import pandas as pd
import pytest
from feast import Entity, FeatureService, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.repo_config import RepoConfig
from feast.types import Float64, Int64, String

from mlrig.components.integrations.feast.asof_store import TYPE

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def _views(folder):
    rng = np.random.default_rng(7)
    hours = pd.date_range(T0, periods=200, freq="h")
    sensors = pd.DataFrame(
        {
            "site": np.repeat(["a", "b", "c"], 200),
            "event_timestamp": np.tile(hours, 3),
            "temp": rng.normal(10, 3, 600),
            "label": rng.choice(["x", "y", None], 600),
        }
    ).sample(frac=0.7, random_state=1)  # gaps longer than the TTL
    sensors.loc[sensors.index[:30], "temp"] = np.nan
    owners = pd.DataFrame(
        {
            "owner_id": [1, 2, 3, 1],
            "event_timestamp": [T0, T0, T0 + timedelta(days=3), T0 + timedelta(days=5)],
            "score": [0.5, 0.25, 0.75, 0.9],
        }
    )
    sensors.to_parquet(folder / "sensors.parquet", index=False)
    owners.to_parquet(folder / "owners.parquet", index=False)
    site = Entity(name="site", join_keys=["site"], value_type=ValueType.STRING)
    owner = Entity(name="owner", join_keys=["owner_id"], value_type=ValueType.INT64)
    sensor_view = FeatureView(
        name="sensor",
        entities=[site],
        ttl=timedelta(hours=3),
        schema=[
            Field(name="site", dtype=String),
            Field(name="temp", dtype=Float64),
            Field(name="label", dtype=String),
        ],  # fmt: skip
        source=FileSource(path=str(folder / "sensors.parquet"), timestamp_field="event_timestamp"),
    )
    owner_view = FeatureView(
        name="owner_stats",
        entities=[owner],
        ttl=timedelta(0),  # no TTL
        schema=[Field(name="owner_id", dtype=Int64), Field(name="score", dtype=Float64)],
        source=FileSource(path=str(folder / "owners.parquet"), timestamp_field="event_timestamp"),
    )
    service = FeatureService(name="svc", features=[sensor_view, owner_view])
    return [site, owner, sensor_view, owner_view, service]


def _store(folder, offline_type: str, **settings: str) -> FeatureStore:
    return FeatureStore(
        config=RepoConfig(
            project="asof_test",
            provider="local",
            registry=str(folder / "registry.db"),
            online_store={"type": "sqlite", "path": str(folder / "online.db")},
            offline_store={"type": offline_type, **settings},
            entity_key_serialization_version=3,
            repo_path=str(folder),
        )
    )


def _entities() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    times = T0 + pd.to_timedelta(rng.integers(-20, 220 * 60, n), unit="min")
    frame = pd.DataFrame(
        {
            "site": rng.choice(["a", "b", "c", "zz"], n),  # zz has no feature rows
            "owner_id": rng.choice([1, 2, 3, 4], n),  # 4 has none
            "event_timestamp": times,
        }
    )
    return pd.concat([frame, frame.head(20)], ignore_index=True)  # duplicate entity rows


def _fetch(store: FeatureStore, entity_df: pd.DataFrame) -> pd.DataFrame:
    rows = entity_df.assign(_row=range(len(entity_df)))
    job = store.get_historical_features(
        entity_df=rows, features=store.get_feature_service("svc"), full_feature_names=True
    )
    out = job.to_df().sort_values("_row").reset_index(drop=True)
    out["event_timestamp"] = pd.to_datetime(out["event_timestamp"], utc=True)
    return out[sorted(out.columns)]


@pytest.fixture
def stores(tmp_path):
    objects = _views(tmp_path)
    stock = _store(tmp_path, "duckdb")
    stock.apply(objects)
    return stock, _store(tmp_path, TYPE)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", None])
def test_asof_store_matches_feasts_own_point_in_time_join(stores, zone):
    stock, asof = stores
    entity_df = _entities()
    if zone is None:
        entity_df["event_timestamp"] = entity_df["event_timestamp"].dt.tz_localize(None)
    else:
        entity_df["event_timestamp"] = entity_df["event_timestamp"].dt.tz_convert(zone)
    expected = _fetch(stock, entity_df)
    got = _fetch(asof, entity_df)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # the cases are really there: expired, missing and found values
    temp = got["sensor__temp"]
    assert temp.isna().any() and temp.notna().sum() > 100
    assert got.loc[got["site"] == "zz", "sensor__temp"].isna().all()
    assert got.loc[got["owner_id"] == 4, "owner_stats__score"].isna().all()
    late = got[(got["owner_id"] == 1) & (got["event_timestamp"] > T0 + timedelta(days=5))]
    assert (late["owner_stats__score"] == 0.9).all() and len(late) > 0


def test_a_created_timestamp_tie_break_goes_to_feasts_own_join(tmp_path):
    """Two rows of one key at one event time: Feast breaks the tie on the created timestamp,
    which an ASOF JOIN cannot; such views are answered by Feast's own join."""
    rows = pd.DataFrame(
        {
            "owner_id": [1, 1],
            "event_timestamp": [T0, T0],
            "created": [T0 + timedelta(hours=2), T0 + timedelta(hours=1)],
            "score": [0.9, 0.1],
        }
    )
    rows.to_parquet(tmp_path / "ties.parquet", index=False)
    owner = Entity(name="owner", join_keys=["owner_id"], value_type=ValueType.INT64)
    view = FeatureView(
        name="ties",
        entities=[owner],
        schema=[Field(name="owner_id", dtype=Int64), Field(name="score", dtype=Float64)],
        source=FileSource(
            path=str(tmp_path / "ties.parquet"),
            timestamp_field="event_timestamp",
            created_timestamp_column="created",
        ),  # fmt: skip
    )
    stock, asof = _store(tmp_path, "duckdb"), _store(tmp_path, TYPE)
    stock.apply([owner, view])
    entity_df = pd.DataFrame({"owner_id": [1], "event_timestamp": [T0 + timedelta(days=1)]})
    for store in (stock, asof):
        got = store.get_historical_features(entity_df=entity_df, features=["ties:score"]).to_df()
        assert got["score"].tolist() == [0.9]


@pytest.fixture
def duckdb_settings_restored():
    yield
    for name in ("memory_limit", "temp_directory"):  # the process's one ibis DuckDB
        ibis.get_backend().raw_sql(f"RESET {name}")


def test_a_memory_bound_holds_duckdb_to_it_and_spills_where_told_with_the_same_answer(
    stores, tmp_path, duckdb_settings_restored
):
    stock, _ = stores
    spill = tmp_path / "spill"
    bounded = _store(tmp_path, TYPE, memory_limit="64MB", spill_directory=str(spill))
    entity_df = _entities()
    expected = _fetch(stock, entity_df)
    pd.testing.assert_frame_equal(_fetch(bounded, entity_df), expected, check_dtype=False)
    limit, temp = (
        ibis.get_backend()
        .raw_sql("SELECT current_setting('memory_limit'), current_setting('temp_directory')")
        .fetchone()
    )
    assert limit == "61.0 MiB"  # DuckDB's way of saying 64 MB
    assert temp == str(spill) and spill.is_dir()
