"""The BentoML service: POST /predict with the entity keys and request-time fields.

Started by `mlrig serve` (MLRIG_CONFIG names the config). It pins one model version at start
(MLRIG_MODEL_VERSION, or the champion alias resolved once), takes its request schema from that
version's contract, reads online features from Feast per request, and exposes /metrics, /livez
and /readyz. Until a champion exists it stays alive but not ready (/readyz 503, /predict 503
saying why), and picks the champion up as soon as one is registered.
"""

from __future__ import annotations

import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import anyio
import bentoml
from prometheus_client import Counter, Gauge, Histogram
from pydantic.warnings import PydanticDeprecatedSince211
from starlette.responses import JSONResponse

from mlrig.components.integrations.feast.feast_reader import read_only_feast

read_only_feast()  # before anything imports Feast: 3.5 s less start-up (feast_reader.py)

from mlrig.components.config import env
from mlrig.components.config.loader import load
from mlrig.components.contract.contract import draft
from mlrig.components.features import freshness
from mlrig.components.integrations.feast.online_store import StoreUnavailable
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.integrations.mlflow.registry import NoVersion, load_contract
from mlrig.components.monitor import gauges as monitor_gauges
from mlrig.components.monitor.logdb import LogUnavailable
from mlrig.components.runtime import cpus
from mlrig.serving.guard import JsonOnly, UserErrors
from mlrig.serving.limits import BodyLimit
from mlrig.serving.predictor import (
    NotReady,
    Predictor,
    RequestError,
    pinned_version,
    prediction_log,
)
from mlrig.serving.request_schema import RequestSchema

env.quiet_telemetry()
# BentoML reads model_fields on the instance once per request: a warning per request in the log.
warnings.filterwarnings("ignore", category=PydanticDeprecatedSince211)
# One OpenMP/BLAS thread per request: a one-row predict gains nothing from more, and under a
# CPU-bound neighbour (or a pod's CPU limit) a pool per core waits on itself (runtime/cpus.py).
SERVING_THREADS = cpus.limit(1)
LOADED = load()
# Prometheus (BentoML's /metrics gathers them across workers): what was predicted and how.
PREDICTIONS = Counter("mlrig_predictions", "answered predictions", ["model_version", "outcome"])
SCORES = Histogram(
    "mlrig_prediction_score",
    "positive-class or top-class probability",
    ["model_version"],
    buckets=[i / 10 for i in range(1, 11)],
)
MISSING = Counter(
    "mlrig_missing_features", "features the online store had no value for", ["model_version"]
)
# The monitor's latest check (components/monitor/gauges.py), re-read every GAUGE_SECONDS.
DRIFT_PSI = Gauge(
    "mlrig_monitor_feature_psi",
    "PSI of a model input, latest monitor check",
    ["model_version", "feature"],
    multiprocess_mode="mostrecent",
)
MONITOR = Gauge(
    "mlrig_monitor",
    "latest monitor check: retrain (0/1), drifted_features, prediction_psi, checked_at (unix time)",
    ["model_version", "value"],
    multiprocess_mode="mostrecent",
)
WINDOW = Gauge(
    "mlrig_monitor_window_metric",
    "a metric of the latest labelled window",
    ["model_version", "window", "metric"],
    multiprocess_mode="mostrecent",
)
SWAPS = Counter(
    "mlrig_model_swaps",
    "hot reloads to a new champion: request_schema is same, "
    "changed (swapped with the model) or refused (the old version kept)",
    ["model_version", "request_schema"],
)
# Each live view's freshness, from the last `mlrig features materialize` (features/freshness.py).
FEATURE_AGE = Gauge(
    "mlrig_feature_view_age_seconds",
    "now minus the view's newest event online",
    ["view"],
    multiprocess_mode="mostrecent",
)
FEATURE_MATERIALIZED = Gauge(
    "mlrig_feature_view_materialized_timestamp_seconds",
    "when the view was last materialized (unix time)",
    ["view"],
    multiprocess_mode="mostrecent",
)
FEATURE_ROWS = Gauge(
    "mlrig_feature_view_rows",
    "rows of the view's offline table",
    ["view"],
    multiprocess_mode="mostrecent",
)
FEATURE_TTL = Gauge(
    "mlrig_feature_view_ttl_seconds",
    "the view's TTL (0: none)",
    ["view"],
    multiprocess_mode="mostrecent",
)
RETRY_SECONDS = 10.0
GAUGE_SECONDS = 15.0


def _export_gauges() -> None:
    """Copy the monitor's gauges file into the Prometheus gauges, forever (a daemon thread)."""
    path = monitor_gauges.gauges_path(LOADED.workdir)
    seen = None
    while True:
        values = monitor_gauges.read(path)
        if values and values.get("checked_at") != seen:
            seen = values["checked_at"]
            version = str(values.get("model_version"))
            for name in ("retrain", "drifted_features", "prediction_psi", "checked_at"):
                if values.get(name) is not None:
                    MONITOR.labels(version, name).set(values[name])
            for feature, psi in values.get("feature_psi", {}).items():
                DRIFT_PSI.labels(version, feature).set(psi)
            for metric, value in values.get("window_metrics", {}).items():
                WINDOW.labels(version, values.get("window", ""), metric).set(value)
        _export_freshness()
        time.sleep(GAUGE_SECONDS)


def _export_freshness() -> None:
    """Each live view's age (now minus its newest event), materialization time, rows and TTL."""
    now = time.time()
    for view in freshness.read(freshness.freshness_path(LOADED.workdir)):
        try:  # a file written by another mlrig version may lack a value: skip what is not a number
            name = str(view["view"])
            if view.get("last_event") is not None:
                FEATURE_AGE.labels(name).set(now - float(view["last_event"]))
            if view.get("materialized_at") is not None:
                FEATURE_MATERIALIZED.labels(name).set(float(view["materialized_at"]))
            if view.get("rows") is not None:
                FEATURE_ROWS.labels(name).set(float(view["rows"]))
            FEATURE_TTL.labels(name).set(float(view.get("ttl_s") or 0.0))
        except (KeyError, TypeError, ValueError):
            continue


def _in_arbiter() -> bool:
    """`bentoml serve` itself (the arbiter): it imports this module only to read the service's
    settings and starts the workers, which import it again and answer every request."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    return started.name == "__main__.py" and started.parent.name == "bentoml"


def _schema_fields() -> dict[str, Any]:
    """The pinned version's request fields; the config's until a version exists. The arbiter
    takes the config's: it serves nothing, and MLflow would add 3 s to every start."""
    if _in_arbiter():
        return draft(LOADED.config, None).request_fields
    try:
        version = pinned_version(LOADED)
        mlflow = tracking.configure(LOADED.place)
        return load_contract(mlflow, LOADED.config.model.name, version).request_fields
    except (NotReady, NoVersion):
        return draft(LOADED.config, None).request_fields


if _in_arbiter() and tracking.local_store_missing(LOADED.place):
    # create the store here, once: the workers would race to migrate it
    tracking.configure(LOADED.place)
# The schema requests are checked with, from the version served at start; a hot reload to a
# version with other request fields swaps it with the model (RequestSchema.swap_into).
START = RequestSchema.of(_schema_fields(), LOADED.config.serving.max_batch_rows)
PredictRequest, BatchRequest = START.model, START.batch


# One worker process per CPU the service is given (a one-row request is CPU-bound Python: threads
# in one process share one core).
WORKERS = LOADED.config.serving.workers or cpus.available()
# Local files (SQLite online store, SQLite prediction log) are read in the event loop; a network
# store or log (Redis, PostgreSQL) in a worker thread.
INLINE = (
    LOADED.config.stores.feast_online_type == "sqlite" and not LOADED.config.stores.prediction_log
)


@bentoml.service(
    name="mlrig",
    workers=WORKERS,
    traffic={"timeout": 30},
    logging={"access": {"enabled": False}},
    # mlrig configures no trace exporter: spans for the prediction routes would be built and
    # dropped, about 0.2 ms a request
    tracing={"excluded_urls": ["/predict", "/predict_batch"]},
)
class PredictionService:
    def __init__(self) -> None:
        self.predictor: Predictor | None = None
        self.reason = "not loaded yet"
        self._last_try = 0.0
        self._lock = threading.Lock()
        self.log = prediction_log(LOADED)
        # BentoML looks each API up on the instance per request, and its descriptor rebuilds the
        # bound call with inspect.signature every time (30-60 us); bind each once
        for name in ("predict", "predict_batch"):
            self.__dict__[name] = getattr(self, name)
        self._load()
        threading.Thread(target=_export_gauges, daemon=True).start()
        every = LOADED.config.serving.reload_seconds
        if every and not env.get(env.MODEL_VERSION):
            threading.Thread(target=self._watch, args=(every,), daemon=True).start()

    def _watch(self, every: float) -> None:
        """Follow the champion alias: load a new champion beside the old one, then swap the
        reference; requests in flight finish on the model they started with. A version with
        other request fields brings its own schema, swapped with it (never a mixed schema);
        one whose schema cannot be built is refused, and the old version keeps serving."""
        while True:
            time.sleep(every)
            current = self.predictor
            if current is None:
                continue
            try:
                latest = pinned_version(LOADED)
                if latest != current.model_version:
                    self._swap(Predictor(LOADED, latest, self.log), current)
            except Exception as exc:  # keep serving the old model; say why in the log
                print(
                    f"mlrig: champion reload failed, still serving v{current.model_version}: {exc}",
                    flush=True,
                )

    def _swap(self, new: Predictor, current: Predictor) -> None:
        schema: RequestSchema = current.schema  # type: ignore[attr-defined]
        fields = new.contract.request_fields
        try:
            new.schema = (
                schema
                if fields == schema.fields
                else schema.of(  # type: ignore[attr-defined]
                    fields, LOADED.config.serving.max_batch_rows
                )
            )
        except Exception as exc:
            SWAPS.labels(str(new.model_version), "refused").inc()
            raise RuntimeError(f"v{new.model_version}'s request schema: {exc}") from None
        changed = new.schema is not schema  # type: ignore[attr-defined]
        self.predictor = new  # first the model, then the schema BentoML checks requests with
        if changed:
            new.schema.swap_into(PredictionService)  # type: ignore[attr-defined]
            print(
                f"mlrig: v{new.model_version} takes other request fields "
                f"({schema.difference(new.schema)}): requests are checked by them from now on",
                flush=True,
            )
        SWAPS.labels(str(new.model_version), "changed" if changed else "same").inc()

    def _load(self) -> Predictor | None:
        """Load the pinned version, at most once per RETRY_SECONDS while there is none."""
        with self._lock:
            if self.predictor is None and time.monotonic() - self._last_try >= RETRY_SECONDS:
                self._last_try = time.monotonic()
                try:
                    first = Predictor(LOADED, log=self.log)
                    first.schema = START  # type: ignore[attr-defined]
                    if first.contract.request_fields != START.fields:  # no champion at start
                        self._swap(first, first)
                    else:
                        self.predictor = first
                except NotReady as exc:
                    self.reason = str(exc)
            return self.predictor

    def __is_ready__(self) -> bool:
        return self._load() is not None

    @bentoml.api(route="/predict", input_spec=PredictRequest)
    async def predict(self, **request: Any) -> dict[str, Any]:
        """The prediction (label, probability or value), the model version, missing features."""
        predictor = self.predictor or await anyio.to_thread.run_sync(self._load)
        if predictor is None:  # BentoML hides the text of 5xx errors: answer it ourselves
            return JSONResponse({"error": self.reason}, status_code=503)  # type: ignore[return-value]
        version = str(predictor.model_version)
        schema: RequestSchema = predictor.schema  # type: ignore[attr-defined]
        if schema.renamed:
            request = {schema.renamed.get(name, name): value for name, value in request.items()}
        try:
            if schema is not START:  # after a swap: checked by the served version's own fields
                request = schema.check(request)
            if INLINE:  # about 0.5 ms of CPU, no network: a thread hop would cost as much
                answer = predictor.predict(request)
            else:  # Redis: a slow or down store must not stall the event loop (/livez, /readyz)
                answer = await anyio.to_thread.run_sync(predictor.predict, request)
        except RequestError as exc:
            PREDICTIONS.labels(version, "request_error").inc()
            body = {"detail": [{"loc": [exc.field], "msg": str(exc), "type": "value_error"}]}
            return JSONResponse(body, status_code=400)  # type: ignore[return-value]
        # a store down: fast, says why (the next request tries again); a log down: not
        # committed, so no answer leaves unlogged
        except (StoreUnavailable, LogUnavailable) as exc:
            return _unavailable(version, exc, 1)  # type: ignore[return-value]
        _count(version, [answer])
        # a Response is sent as it is: BentoML would otherwise rebuild the output's JSON schema
        # (a pydantic TypeAdapter) for every answer, to find its media type
        return JSONResponse(answer)  # type: ignore[return-value]

    @bentoml.api(route="/predict_batch", input_spec=BatchRequest)
    def predict_batch(self, rows: list[Any]) -> dict[str, Any]:
        """Up to serving.max_batch_rows requests in one pass: {"predictions": [...]}, in order."""
        predictor = self._load()
        if predictor is None:
            return JSONResponse({"error": self.reason}, status_code=503)  # type: ignore[return-value]
        version = str(predictor.model_version)
        schema: RequestSchema = predictor.schema  # type: ignore[attr-defined]
        requests = [
            r.model_dump(by_alias=True) if hasattr(r, "model_dump") else dict(r) for r in rows
        ]
        try:
            if schema is not START:
                requests = [schema.check(r, f"rows.{i}") for i, r in enumerate(requests)]
            answers = predictor.predict_many(requests)
        except RequestError as exc:
            PREDICTIONS.labels(version, "request_error").inc(len(requests))
            body = {
                "detail": [{"loc": exc.field.split("."), "msg": str(exc), "type": "value_error"}]
            }
            return JSONResponse(body, status_code=400)  # type: ignore[return-value]
        except (StoreUnavailable, LogUnavailable) as exc:
            return _unavailable(version, exc, len(requests))  # type: ignore[return-value]
        _count(version, answers)
        return JSONResponse({"predictions": answers})  # type: ignore[return-value]


def _unavailable(version: str, exc: Exception, rows: int) -> JSONResponse:
    """A 503 naming the store or log that did not answer, counted by which it was."""
    outcome = "log_unavailable" if isinstance(exc, LogUnavailable) else "store_unavailable"
    PREDICTIONS.labels(version, outcome).inc(rows)
    return JSONResponse({"error": str(exc)}, status_code=503)


def _count(version: str, answers: list[dict[str, Any]]) -> None:
    """The Prometheus series of answered predictions: each labelled series looked up once."""
    unknown = sum(1 for a in answers if a.get("unknown_entities"))
    if unknown:
        PREDICTIONS.labels(version, "unknown_entity").inc(unknown)
    if len(answers) > unknown:
        PREDICTIONS.labels(version, "ok").inc(len(answers) - unknown)
    MISSING.labels(version).inc(sum(len(a.get("missing_features", [])) for a in answers))
    scores = SCORES.labels(version)
    for answer in answers:
        score = answer.get("probability")
        if score is None:  # multiclass: the top class's probability
            score = max((answer.get("probabilities") or {}).values(), default=None)
        if score is not None:
            scores.observe(score)


# Outermost first: the size limit, then the media type, then BentoML's errors reworded.
PredictionService.add_asgi_middleware(BodyLimit, max_bytes=LOADED.config.serving.max_body_bytes)
PredictionService.add_asgi_middleware(JsonOnly)
PredictionService.add_asgi_middleware(UserErrors)
