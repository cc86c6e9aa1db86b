"""A shadow version: every served request scored by a second model version too, off the
response path, its answer logged beside the served one (the prediction log's `shadows` table)
for `mlrig monitor compare VERSION --from-log`.

The served answer is the champion's, byte for byte: a request is handed to the shadow after its
answer is made, through a bounded queue that never blocks (full: the request is dropped for the
shadow and counted); one thread scores the queue, so a failing or slow shadow costs the service
neither an answer nor its latency budget. Which version shadows: `serving.shadow`, else the
registry's `shadow` alias (`mlrig model shadow VERSION`), followed as the champion alias is."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

from mlrig.components.config.loader import LoadedConfig
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.integrations.mlflow.registry import NoVersion, resolve
from mlrig.components.monitor.predlog import PredictionLog
from mlrig.components.runtime.catalog import SHADOW
from mlrig.serving import metrics
from mlrig.serving.predictor import LOGGED, Predictor

QUEUE_ROWS = 1000  # requests waiting for the shadow; more are dropped, not waited for


def shadow_version(loaded: LoadedConfig, named: dict[str, int] | None = None) -> int | None:
    """serving.shadow, else the version the registry's `shadow` alias names (in `named`, the
    model's aliases when the caller has read them), else None."""
    if loaded.config.serving.shadow is not None:
        return loaded.config.serving.shadow
    if named is not None:
        return named.get(SHADOW)
    try:
        return resolve(tracking.configure(loaded.place), loaded.config.model.name, SHADOW)
    except NoVersion:
        return None


class Shadow:
    """One shadow version's queue and the thread that scores it."""

    def __init__(self, predictor: Predictor, log: PredictionLog, rows: int = QUEUE_ROWS) -> None:
        self.predictor = predictor
        self.version = predictor.model_version
        self.log = log
        self._queue: queue.Queue = queue.Queue(maxsize=rows)
        self._label = str(self.version)
        self._stopped = False
        self._thread = threading.Thread(
            target=self._work, daemon=True, name=f"shadow-v{self.version}"
        )
        self._thread.start()

    def offer(self, request: dict[str, Any], request_id: str | None) -> None:
        """Hand a served request to the shadow; never waits (a full queue drops it)."""
        if request_id is None:
            return
        try:
            self._queue.put_nowait((request, request_id))
        except queue.Full:
            metrics.SHADOW.labels(self._label, "dropped").inc()

    def stop(self, wait: float | None = None) -> None:
        """Stop after the requests already queued (wait: seconds to wait for that). Never blocks
        on a full queue: a hung shadow is replaced without waiting for it."""
        try:
            self._queue.put_nowait((None, None))
        except queue.Full:  # the thread is stuck or far behind: it ends at its next request
            self._stopped = True
        if wait is not None:
            self._thread.join(wait)

    def _work(self) -> None:
        while True:
            request, request_id = self._queue.get()
            if request is None or self._stopped:
                return
            self._answer(request, request_id)

    def _answer(self, request: dict[str, Any], request_id: str) -> None:
        started = time.perf_counter()
        prediction, error = None, None
        try:
            answer = self.predictor.predict(request)
            prediction = {k: answer[k] for k in LOGGED if k in answer}
        except Exception as exc:  # the shadow's own failure: logged beside the request
            error = f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - started
        metrics.SHADOW_SECONDS.labels(self._label).observe(seconds)
        metrics.SHADOW.labels(self._label, "failed" if error else "scored").inc()
        try:
            self.log.log_shadow(
                request_id=request_id,
                version=self.version,
                prediction=prediction,
                ms=seconds * 1000,
                error=error,
            )
        except Exception as exc:  # a log down: the served answers are refused already
            print(f"mlrig: shadow v{self.version}'s answer not logged: {exc}", flush=True)


def start_shadow(
    loaded: LoadedConfig,
    log: PredictionLog | None,
    served: int | None,
    running: Shadow | None,
    named: dict[str, int] | None = None,
) -> Shadow | None:
    """The shadow that should run now: `running` when it is still the wanted version, a new one
    (the old stopped) when the wanted version changed, None when there is none, it is the served
    version itself, or there is no prediction log to compare in."""
    wanted = shadow_version(loaded, named)
    if wanted is None or wanted == served or log is None:
        if running is not None:
            running.stop()
        return None
    if running is not None and running.version == wanted:
        return running
    shadow = Shadow(Predictor(loaded, wanted, log=None), log)
    if running is not None:
        running.stop()
    print(f"mlrig: v{wanted} shadows the served version", flush=True)
    return shadow
