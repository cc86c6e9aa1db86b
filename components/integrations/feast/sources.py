"""Where Feast reads a view's table from: a FileSource for the DuckDB offline store, a SparkSource
(the same parquet file) for Spark's; and the Spark offline store's settings.

Spark reads parquet timestamps only to the microsecond, so with Spark the view tables are written
that way (parquet_options; pandas reads them back as microsecond times, which the rest of mlrig's
frames, in nanoseconds, do not mix with, so DuckDB's tables stay as they were)."""

from __future__ import annotations

from typing import Any

from mlrig.components.config import env
from mlrig.components.config.place import Place
from mlrig.components.runtime.catalog import EVENT_TS

SPARK_DEFAULTS = {
    "spark.master": "local[2]",
    "spark.sql.session.timeZone": "UTC",  # times come back as UTC, whatever the machine says
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "8",  # Spark's 200 are for clusters: minutes on 2 cores
}


def batch_source(place: Place, name: str, path: str) -> Any:
    """The offline source of one view's parquet table."""
    if place.stores.feast_offline == "spark":
        from feast.infra.offline_stores.contrib.spark_offline_store.spark_source import (
            SparkSource,
        )

        return SparkSource(name=name, path=path, file_format="parquet", timestamp_field=EVENT_TS)
    from feast import FileSource

    return FileSource(name=name, path=path, timestamp_field=EVENT_TS)


def parquet_options(place: Place) -> dict[str, Any]:
    """How a view's table is written for the offline store that reads it."""
    if place.stores.feast_offline == "spark":
        return {"coerce_timestamps": "us", "allow_truncated_timestamps": True}
    return {}


def spark_conf(place: Place) -> dict[str, str]:
    """mlrig's Spark defaults under the config's `stores.spark_conf` (${VAR} resolved). With
    spark.remote (Spark Connect), the master is the server's."""
    given = {k: env.resolve(v) for k, v in place.stores.spark_conf.items()}
    merged = {**SPARK_DEFAULTS, **given}
    if "spark.remote" in given:
        merged.pop("spark.master", None)
    return merged


def offline_store(place: Place, asof_type: str) -> dict[str, Any]:
    """The RepoConfig's offline_store: the ASOF DuckDB store, or Spark's."""
    if place.stores.feast_offline == "spark":
        return {"type": "spark", "spark_conf": spark_conf(place)}
    return {
        "type": asof_type,
        "memory_limit": place.stores.offline_memory,
        "spill_directory": str(place.workdir / "cache" / "duckdb"),
    }
