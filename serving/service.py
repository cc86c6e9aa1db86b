"""The BentoML service: POST /predict with the entity keys and request-time fields.

Started by `mlrig serve` (MLRIG_CONFIG names the config). It loads the champion model once,
reads online features from Feast per request, and exposes /metrics, /livez and /readyz.
Until a champion exists it stays alive but not ready (/readyz 503, /predict 503 saying why),
and picks the champion up as soon as one is registered.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import bentoml
from starlette.responses import JSONResponse

from mlrig.components.config import env
from mlrig.components.config.loader import load
from mlrig.serving.predictor import NotReady, Predictor
from mlrig.serving.schemas import request_model

env.quiet_telemetry()
LOADED = load()
PredictRequest = request_model(LOADED.config.serving.request_fields)
RETRY_SECONDS = 10.0


@bentoml.service(name="mlrig", traffic={"timeout": 30}, logging={"access": {"enabled": False}})
class PredictionService:
    def __init__(self) -> None:
        self.predictor: Predictor | None = None
        self.reason = "not loaded yet"
        self._last_try = 0.0
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> Predictor | None:
        """Load the champion, at most once per RETRY_SECONDS while there is none."""
        with self._lock:
            if self.predictor is None and time.monotonic() - self._last_try >= RETRY_SECONDS:
                self._last_try = time.monotonic()
                try:
                    self.predictor = Predictor(LOADED)
                except NotReady as exc:
                    self.reason = str(exc)
            return self.predictor

    def __is_ready__(self) -> bool:
        return self._load() is not None

    @bentoml.api(route="/predict", input_spec=PredictRequest)
    def predict(self, **request: Any) -> dict[str, Any]:
        """Probability of the positive class (or the predicted value) and the model version."""
        predictor = self._load()
        if predictor is None:  # BentoML hides the text of 5xx errors: answer it ourselves
            return JSONResponse({"error": self.reason}, status_code=503)  # type: ignore[return-value]
        return predictor.predict(request)
