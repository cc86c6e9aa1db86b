"""What the service does: load the pinned version (or wait for a champion), follow the champion
alias, and answer /predict and /predict_batch. serving/builder.py makes it a BentoML service.

It pins one model version at start (MLRIG_MODEL_VERSION, or the champion alias resolved once),
reads online features from Feast per request, and exposes /metrics, /livez and /readyz. Until a
champion exists it stays alive but not ready (/readyz 503, /predict 503 saying why), and picks the
champion up as soon as one is registered.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio
import bentoml
from starlette.responses import JSONResponse

from mlrig.components.config import env
from mlrig.components.config.loader import LoadedConfig
from mlrig.components.integrations.feast.online_store import StoreUnavailable
from mlrig.components.monitor.logdb import LogUnavailable
from mlrig.components.runtime.catalog import CHAMPION
from mlrig.serving import metrics
from mlrig.serving.predictor import (
    NotReady,
    Predictor,
    RequestError,
    model_aliases,
    prediction_log,
)
from mlrig.serving.request_schema import RequestSchema
from mlrig.serving.schemas import EXPLAIN
from mlrig.serving.shadow import Shadow, start_shadow

RETRY_SECONDS = 10.0


class Routes:
    """The service's state and routes. serving/builder.py gives it the config (`loaded`), the
    schema of the version served at start (`start`), its routes' request schemas and its BentoML
    service."""

    loaded: LoadedConfig
    start: RequestSchema
    inline: bool
    service: Any

    def __init__(self) -> None:
        self.predictor: Predictor | None = None
        self.shadow: Shadow | None = None
        self.reason = "not loaded yet"
        self._last_try = 0.0
        self._lock = threading.Lock()
        self.log = prediction_log(self.loaded)
        # BentoML looks each API up on the instance per request, and its descriptor rebuilds the
        # bound call with inspect.signature every time (30-60 us); bind each once
        for name in ("predict", "predict_batch"):
            self.__dict__[name] = getattr(self, name)
        self._load()

    @bentoml.on_startup
    def follow(self) -> None:
        """Once per worker, as it starts: export the monitor's gauges and follow the registry."""
        workdir = self.loaded.workdir
        threading.Thread(target=metrics.export_gauges, args=(workdir,), daemon=True).start()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        """Read the model's aliases once every serving.reload_seconds (once only when 0) and
        follow them: the champion (unless the version is pinned) and the shadow."""
        every = self.loaded.config.serving.reload_seconds
        champion = bool(every) and not env.get(env.MODEL_VERSION)
        while True:
            try:
                named: dict[str, int] | None = model_aliases(self.loaded)
            except Exception as exc:  # keep serving what is served; say why in the log
                print(f"mlrig: the registry did not answer, nothing changed: {exc}", flush=True)
                named = None
            if named is not None:
                if champion:
                    self._follow_champion(named)
                self._follow_shadow(named)
            if not every:
                return
            time.sleep(every)

    def _follow_shadow(self, named: dict[str, int]) -> None:
        """Start, keep or stop the shadow version; one that cannot be loaded is said in the log
        and retried at the next read, the service unchanged."""
        served = self.predictor.model_version if self.predictor else None
        try:
            self.shadow = start_shadow(self.loaded, self.log, served, self.shadow, named)
        except Exception as exc:
            print(f"mlrig: no shadow: {exc}", flush=True)

    def _follow_champion(self, named: dict[str, int]) -> None:
        """Load a new champion beside the old one, then swap the reference; requests in flight
        finish on the model they started with. A version with other request fields brings its
        own schema, swapped with it (never a mixed schema); one whose schema cannot be built is
        refused, and the old version keeps serving."""
        current = self.predictor
        latest = named.get(CHAMPION)
        if current is None or latest is None or latest == current.model_version:
            return
        try:
            self._swap(Predictor(self.loaded, latest, self.log), current)
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
                    fields, self.loaded.config.serving.max_batch_rows
                )
            )
        except Exception as exc:
            metrics.SWAPS.labels(str(new.model_version), "refused").inc()
            raise RuntimeError(f"v{new.model_version}'s request schema: {exc}") from None
        changed = new.schema is not schema  # type: ignore[attr-defined]
        self.predictor = new  # first the model, then the schema BentoML checks requests with
        if changed:
            new.schema.swap_into(self.service)  # type: ignore[attr-defined]
            print(
                f"mlrig: v{new.model_version} takes other request fields "
                f"({schema.difference(new.schema)}): requests are checked by them from now on",
                flush=True,
            )
        metrics.SWAPS.labels(str(new.model_version), "changed" if changed else "same").inc()

    def _load(self) -> Predictor | None:
        """Load the pinned version, at most once per RETRY_SECONDS while there is none."""
        with self._lock:
            if self.predictor is None and time.monotonic() - self._last_try >= RETRY_SECONDS:
                self._last_try = time.monotonic()
                try:
                    first = Predictor(self.loaded, log=self.log)
                    first.schema = self.start  # type: ignore[attr-defined]
                    if first.contract.request_fields != self.start.fields:  # no champion at start
                        self._swap(first, first)
                    else:
                        self.predictor = first
                except NotReady as exc:
                    self.reason = str(exc)
            return self.predictor

    def __is_ready__(self) -> bool:
        return self._load() is not None

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
            if schema is not self.start:  # after a swap: checked by the served version's own fields
                request = schema.check(request)
            explain = _explain_asked(request, schema)
            shadow = self.shadow
            asked = dict(request) if shadow is not None else None
            if self.inline:  # about 0.5 ms of CPU, no network: a thread hop would cost as much
                answer = predictor.predict(request, explain)
            else:  # Redis: a slow or down store must not stall the event loop (/livez, /readyz)
                answer = await anyio.to_thread.run_sync(predictor.predict, request, explain)
        except RequestError as exc:
            metrics.PREDICTIONS.labels(version, "request_error").inc()
            body = {"detail": [{"loc": [exc.field], "msg": str(exc), "type": "value_error"}]}
            return JSONResponse(body, status_code=400)  # type: ignore[return-value]
        # a store down: fast, says why (the next request tries again); a log down: not
        # committed, so no answer leaves unlogged
        except (StoreUnavailable, LogUnavailable) as exc:
            return metrics.unavailable(version, exc, 1)  # type: ignore[return-value]
        metrics.count(version, [answer])
        if shadow is not None:  # after the answer is made; never waits
            shadow.offer(asked, answer.get("request_id"))  # type: ignore[arg-type]
        # a Response is sent as it is: BentoML would otherwise rebuild the output's JSON schema
        # (a pydantic TypeAdapter) for every answer, to find its media type
        return JSONResponse(answer)  # type: ignore[return-value]

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
            if schema is not self.start:
                requests = [schema.check(r, f"rows.{i}") for i, r in enumerate(requests)]
            explain = [_explain_asked(r, schema) for r in requests]
            shadow = self.shadow
            asked = [dict(r) for r in requests] if shadow is not None else []
            answers = predictor.predict_many(requests, explain)
        except RequestError as exc:
            metrics.PREDICTIONS.labels(version, "request_error").inc(len(requests))
            body = {
                "detail": [{"loc": exc.field.split("."), "msg": str(exc), "type": "value_error"}]
            }
            return JSONResponse(body, status_code=400)  # type: ignore[return-value]
        except (StoreUnavailable, LogUnavailable) as exc:
            return metrics.unavailable(version, exc, len(requests))  # type: ignore[return-value]
        metrics.count(version, answers)
        if shadow is not None:
            for request, answer in zip(asked, answers, strict=True):
                shadow.offer(request, answer.get("request_id"))
        return JSONResponse({"predictions": answers})  # type: ignore[return-value]


def _explain_asked(request: dict[str, Any], schema: RequestSchema) -> bool:
    """Take the request's `explain` switch out of it (unless it is one of the model's fields)."""
    if EXPLAIN in schema.fields:
        return False
    return bool(request.pop(EXPLAIN, False))
