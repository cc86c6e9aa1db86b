"""Assembles the BentoML service from a loaded config: the request schema of the version served
at start, the service's settings, its routes (serving/routes.py) and its middleware.

BentoML reads a service's routes and their request schemas when the class is declared, so the
schema must be known then: a worker asks MLflow for the pinned version's contract; `bentoml serve`
itself (the arbiter, which only reads the service's settings and starts the workers) takes the
config's, and creates a local tracking store once in its deployment hook, before any worker could
race to migrate it.
"""

from __future__ import annotations

from typing import Any

import bentoml
from bentoml._internal.context import server_context

from mlrig.components.config.loader import LoadedConfig
from mlrig.components.contract.contract import draft
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.integrations.mlflow.registry import NoVersion, load_contract
from mlrig.components.runtime import cpus
from mlrig.serving.guard import JsonOnly, UserErrors
from mlrig.serving.limits import BodyLimit
from mlrig.serving.predictor import NotReady, pinned_version
from mlrig.serving.request_schema import RequestSchema
from mlrig.serving.routes import Routes


def in_worker() -> bool:
    """A BentoML worker (which answers requests), not the arbiter or a plain import."""
    return server_context.worker_index is not None


def start_fields(loaded: LoadedConfig) -> dict[str, Any]:
    """The pinned version's request fields; the config's until a version exists, and outside a
    worker (it serves nothing, and MLflow would add 3 s to every start)."""
    if not in_worker():
        return draft(loaded.config, None).request_fields
    try:
        version = pinned_version(loaded)
        mlflow = tracking.configure(loaded.place)
        return load_contract(mlflow, loaded.config.model.name, version).request_fields
    except (NotReady, NoVersion):
        return draft(loaded.config, None).request_fields


def _deployment_hook(loaded: LoadedConfig) -> Any:
    def prepare_tracking_store() -> None:
        if tracking.local_store_missing(loaded.place):
            tracking.configure(loaded.place)

    return bentoml.on_deployment(prepare_tracking_store)


def build(loaded: LoadedConfig) -> Any:
    """The service for this config: a BentoML service class named `mlrig`."""
    serving = loaded.config.serving
    start = RequestSchema.of(start_fields(loaded), serving.max_batch_rows)
    # Local files (SQLite online store, SQLite prediction log) are read in the event loop; a
    # network store or log (Redis, PostgreSQL) in a worker thread.
    inline = (
        loaded.config.stores.feast_online_type == "sqlite"
        and not loaded.config.stores.prediction_log
    )
    members = {
        "__module__": "mlrig.serving.service",
        "__qualname__": "PredictionService",
        "loaded": loaded,
        "start": start,
        "inline": inline,
        "predict": bentoml.api(route="/predict", input_spec=start.model)(Routes.predict),
        "predict_batch": bentoml.api(route="/predict_batch", input_spec=start.batch)(
            Routes.predict_batch
        ),
        "prepare_tracking_store": _deployment_hook(loaded),
    }
    inner = type("PredictionService", (Routes,), members)
    service = bentoml.service(
        name="mlrig",
        # one worker process per CPU the service is given (a one-row request is CPU-bound Python:
        # threads in one process share one core)
        workers=serving.workers or cpus.available(),
        traffic={"timeout": 30},
        logging={"access": {"enabled": False}},
        # mlrig configures no trace exporter: spans for the prediction routes would be built and
        # dropped, about 0.2 ms a request
        tracing={"excluded_urls": ["/predict", "/predict_batch"]},
    )(inner)
    inner.service = service  # where a hot reload swaps in another version's schema
    # Outermost first: the size limit, then the media type, then BentoML's errors reworded.
    service.add_asgi_middleware(BodyLimit, max_bytes=serving.max_body_bytes)
    service.add_asgi_middleware(JsonOnly)
    service.add_asgi_middleware(UserErrors)
    return service
