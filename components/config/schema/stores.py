"""The `stores` section: where MLflow, Feast and the prediction log keep their state."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from mlrig.components.config.schema.base import (
    Strict,
)


class Stores(Strict):
    mlflow_tracking_uri: str = "sqlite:///mlflow.db"
    mlflow_artifact_root: str = "mlartifacts"
    experiment: str = ""
    feast_repo: str = "feature_repo"
    feast_project: str = ""
    feast_online_type: Literal["sqlite", "redis"] = "sqlite"
    feast_online_path: str = ".mlrig/feast/online.db"
    feast_redis: str = "localhost:6379"
    feast_registry: str = ".mlrig/feast/registry.db"
    feature_data_dir: str = ".mlrig/feature_data"
    prediction_log: str = Field(
        "",
        description="where served predictions are logged: empty for a SQLite file under the work "
        "folder (one machine), or a postgresql:// URL (many replicas; use ${VAR} for the password)",
    )

    @field_validator("prediction_log")
    @classmethod
    def _log_url(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgresql+psycopg2://")):
            raise ValueError(
                f"'{value.split('@')[-1]}' is neither empty (SQLite under the work folder) nor a "
                "postgresql:// URL"
            )
        return value
