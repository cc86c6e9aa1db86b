"""The latency baseline: a bare FastAPI endpoint doing the same work as the BentoML service
(one Feast online read + the champion's predict), started by serving_latency.py."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from mlrig.components.config.loader import load
from mlrig.serving.predictor import Predictor

predictor = Predictor(load())
app = FastAPI()


@app.post("/predict")
def predict(request: dict[str, Any]) -> dict[str, Any]:
    return predictor.predict(request)
