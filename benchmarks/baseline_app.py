"""The latency baseline: a bare FastAPI endpoint doing the same work as the BentoML service (the
same request schema validated by pydantic, one Feast online read and the champion's predict
through the same Predictor, the prediction logged, a Prometheus counter), started by
serving_latency.py."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from prometheus_client import Counter

from mlrig.components.config.loader import load
from mlrig.components.runtime import cpus
from mlrig.serving.predictor import Predictor, prediction_log
from mlrig.serving.schemas import request_model

cpus.limit(1)  # as the service: one OpenMP/BLAS thread
loaded = load()
predictor = Predictor(loaded, log=prediction_log(loaded))
Request = request_model(predictor.contract.request_fields)
ANSWERED = Counter("baseline_predictions", "answered predictions")
app = FastAPI()


@app.post("/predict")
def predict(request: Request) -> dict[str, Any]:  # type: ignore[valid-type]
    answer = predictor.predict(request.model_dump(by_alias=True))  # type: ignore[attr-defined]
    ANSWERED.inc()
    return answer
