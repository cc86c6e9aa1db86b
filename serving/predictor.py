"""The model behind the service: champion from MLflow, features from Feast's online store."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from mlrig.components.common import tracking
from mlrig.components.config.loader import LoadedConfig
from mlrig.components.features import feast_store
from mlrig.components.features.core import add_date_parts, entity_keys_in_main
from mlrig.components.register.io import CHAMPION
from mlrig.components.score.core import as_model_frame, prepare_requests


class NotReady(RuntimeError):
    """Nothing to serve yet (no champion, no registered features); the message says what to run."""


class Predictor:
    """Loads the champion once; turns one request into one model row and scores it."""

    def __init__(self, loaded: LoadedConfig) -> None:
        self.loaded = loaded
        cfg = loaded.config
        mlflow = tracking.configure(loaded)
        client = mlflow.MlflowClient()
        try:
            version = client.get_model_version_by_alias(cfg.model.name, CHAMPION)
        except mlflow.exceptions.MlflowException as exc:
            raise NotReady(
                f"no '{CHAMPION}' version of model '{cfg.model.name}' in "
                f"{tracking.tracking_uri(loaded)} yet: run the training pipeline first ({exc})"
            ) from None
        self.model_version = int(version.version)
        self.model = mlflow.sklearn.load_model(f"models:/{cfg.model.name}@{CHAMPION}")
        self.inputs = list(self.model.feature_names_in_)
        self.store = feast_store.open_store(loaded)
        try:
            self.service = self.store.get_feature_service(cfg.features.service)
        except Exception as exc:  # Feast raises its own not-found types per registry backend
            raise NotReady(
                f"feature service '{cfg.features.service}' is not registered: {exc}"
            ) from None
        self.task = cfg.dataset.task

    def _row(self, request: dict[str, Any]) -> pd.DataFrame:
        cfg = self.loaded.config
        frame = prepare_requests(cfg, pd.DataFrame([request]))
        keys = entity_keys_in_main(cfg, list(frame.columns))
        values = feast_store.online(self.store, self.service, [{k: frame.at[0, k] for k in keys}])
        online = pd.DataFrame({c: v for c, v in values.items() if c not in keys})
        frame = pd.concat([frame, online], axis=1)
        if cfg.dataset.date_parts:
            frame = add_date_parts(frame, cfg.dataset.date_parts)
        return as_model_frame(frame, self.inputs)

    def predict(self, request: dict[str, Any]) -> dict[str, Any]:
        """Score one request; returns probability and class (or the value) and the model version."""
        row = self._row(request)
        found = int(row.notna().sum(axis=1).iloc[0])
        if self.task == "classification":
            probability = float(self.model.predict_proba(row)[0, 1])
            result: dict[str, Any] = {
                "probability": round(probability, 6),
                "prediction": int(probability >= 0.5),
            }
        else:
            value = float(self.model.predict(row)[0])
            result = {"prediction": value if math.isfinite(value) else None}
        result.update(
            {
                "model": self.loaded.config.model.name,
                "model_version": self.model_version,
                "inputs_present": found,
                "inputs_total": len(self.inputs),
            }
        )
        return result
