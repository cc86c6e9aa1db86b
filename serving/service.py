"""The BentoML service `mlrig serve` starts (MLRIG_CONFIG names the config): POST /predict and
/predict_batch with the entity keys and request-time fields, /metrics, /livez and /readyz.

This module only declares it. serving/builder.py assembles it from the config (request schema,
settings, middleware), serving/routes.py answers the requests, serving/predictor.py holds the
pinned model version and its features.
"""

from __future__ import annotations

import warnings

from pydantic.warnings import PydanticDeprecatedSince211

from mlrig.components.config import env
from mlrig.components.config.loader import load
from mlrig.components.runtime import cpus
from mlrig.serving.builder import build

env.quiet_telemetry()
# BentoML reads model_fields on the instance once per request: a warning per request in the log.
warnings.filterwarnings("ignore", category=PydanticDeprecatedSince211)
# One OpenMP/BLAS thread per request: a one-row predict gains nothing from more, and under a
# CPU-bound neighbour (or a pod's CPU limit) a pool per core waits on itself (runtime/cpus.py).
SERVING_THREADS = cpus.limit(1)

PredictionService = build(load())
