"""The BentoML service: POST /predict with the entity keys and request-time fields.

Started by `mlrig serve` (MLRIG_CONFIG names the config). It loads the champion model once,
reads online features from Feast per request, and exposes /metrics, /livez and /readyz.
"""

from __future__ import annotations

from typing import Any

import bentoml

from mlrig.components.config import env
from mlrig.components.config.loader import load
from mlrig.serving.predictor import Predictor
from mlrig.serving.schemas import request_model

env.quiet_telemetry()
LOADED = load()
PredictRequest = request_model(LOADED.config.serving.request_fields)


@bentoml.service(name="mlrig", traffic={"timeout": 30}, logging={"access": {"enabled": False}})
class PredictionService:
    def __init__(self) -> None:
        self.predictor = Predictor(LOADED)

    @bentoml.api(route="/predict", input_spec=PredictRequest)
    def predict(self, **request: Any) -> dict[str, Any]:
        """Probability of the positive class (or the predicted value) and the model version."""
        return self.predictor.predict(request)
