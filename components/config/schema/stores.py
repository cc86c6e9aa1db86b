"""The `stores` section: where MLflow, Feast and the prediction log keep their state."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from mlrig.components.config.schema.base import (
    Strict,
)


class Stores(Strict):
    """Where MLflow, Feast and the prediction log keep their state."""

    mlflow_tracking_uri: str = Field(
        "sqlite:///mlflow.db",
        description="MLflow's tracking store: a sqlite:/// file locally, the tracking server's "
        "URL in the cluster",
    )
    mlflow_artifact_root: str = Field(
        "mlartifacts",
        description="where MLflow keeps model files (a folder relative to the config, locally)",
    )
    experiment: str = Field("", description="the MLflow experiment (default: the project's name)")
    feast_repo: str = Field(
        "feature_repo", description="the Feast repo folder (feature_store.yaml) for the feast CLI"
    )
    feast_project: str = Field("", description="the Feast project (default: the project's name)")
    feast_online_type: Literal["sqlite", "redis"] = Field(
        "sqlite", description="the online store: sqlite locally, redis in the cluster"
    )
    feast_online_path: str = Field(
        ".mlrig/feast/online.db", description="the SQLite online store's file"
    )
    feast_redis: str = Field(
        "localhost:6379", description="the Redis connection string (host:port[,password=${VAR}])"
    )
    feast_registry: str = Field(
        ".mlrig/feast/registry.db", description="the Feast registry: a file, or a postgresql:// URL"
    )
    feature_data_dir: str = Field(
        ".mlrig/feature_data",
        description="where the feature views' tables are kept, by feature-set version",
    )
    feast_offline: Literal["duckdb", "spark"] = Field(
        "duckdb",
        description="Feast's offline store (historical retrieval and materialization): duckdb on "
        'one machine, spark past it (pip install "mlrig[spark]"; Java 17)',
    )
    offline_memory: str = Field(
        "10%",
        description="the most memory DuckDB may hold for point-in-time joins (a size such as 4GB "
        "or a share of the machine's memory such as 10%); past it, DuckDB spills to the work "
        "folder's cache/duckdb, so a big training set stays within the machine",
    )
    spark_conf: dict[str, str] = Field(
        default_factory=dict,
        description="Spark settings for the spark offline store, over mlrig's defaults "
        "(spark.master local[2], UTC session time); spark.remote: sc://HOST:15002 for a Spark "
        "Connect server (use ${VAR} for values the cluster supplies)",
    )
    prediction_log: str = Field(
        "",
        description="where served predictions are logged: empty for a SQLite file under the work "
        "folder (one machine), or a postgresql:// URL (many replicas; use ${VAR} for the password)",
    )

    @field_validator("offline_memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not re.fullmatch(r"\s*\d+(\.\d+)?\s*(%|[KMGT]i?B)\s*", value, re.IGNORECASE):
            raise ValueError(f"'{value}' is neither a size such as 4GB nor a share such as 20%")
        return value.strip()

    @field_validator("prediction_log")
    @classmethod
    def _log_url(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgresql+psycopg2://")):
            raise ValueError(
                f"'{value.split('@')[-1]}' is neither empty (SQLite under the work folder) nor a "
                "postgresql:// URL"
            )
        return value
