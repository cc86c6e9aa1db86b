"""The service's Prometheus series (BentoML's /metrics gathers them across workers), and the
threads that copy the monitor's latest check and each live view's freshness into them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from starlette.responses import JSONResponse

from mlrig.components.features import freshness
from mlrig.components.monitor import gauges as monitor_gauges
from mlrig.components.monitor.logdb import LogUnavailable

# What was predicted and how.
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
    "latest monitor check: retrain (0/1), drifted_features, prediction_psi, reasons_moved, "
    "checked_at (unix time)",
    ["model_version", "value"],
    multiprocess_mode="mostrecent",
)
SHARE = Gauge(
    "mlrig_monitor_contribution_share",
    "an input's share of the answers' mean |contribution|, latest monitor check",
    ["model_version", "feature"],
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
SHADOW = Counter(
    "mlrig_shadow_predictions",
    "a shadow version's answers to served requests: outcome scored, failed (logged with its "
    "error) or dropped (its queue was full; the served answer never waits for it)",
    ["model_version", "outcome"],
)
SHADOW_SECONDS = Histogram(
    "mlrig_shadow_seconds", "time a shadow version took per request", ["model_version"]
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
GAUGE_SECONDS = 15.0


def export_gauges(workdir: Path) -> None:
    """Copy the monitor's gauges file into the Prometheus gauges, forever (a daemon thread)."""
    path = monitor_gauges.gauges_path(workdir)
    seen = None
    while True:
        values = monitor_gauges.read(path)
        if values and values.get("checked_at") != seen:
            seen = values["checked_at"]
            version = str(values.get("model_version"))
            for name in ("retrain", "drifted_features", "prediction_psi", "reasons_moved",
                         "checked_at"):  # fmt: skip
                if values.get(name) is not None:
                    MONITOR.labels(version, name).set(values[name])
            for feature, psi in values.get("feature_psi", {}).items():
                DRIFT_PSI.labels(version, feature).set(psi)
            for feature, share in values.get("contribution_share", {}).items():
                SHARE.labels(version, feature).set(share)
            for metric, value in values.get("window_metrics", {}).items():
                WINDOW.labels(version, values.get("window", ""), metric).set(value)
        export_freshness(workdir)
        time.sleep(GAUGE_SECONDS)


def export_freshness(workdir: Path) -> None:
    """Each live view's age (now minus its newest event), materialization time, rows and TTL."""
    now = time.time()
    for view in freshness.read(freshness.freshness_path(workdir)):
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


def unavailable(version: str, exc: Exception, rows: int) -> JSONResponse:
    """A 503 naming the store or log that did not answer, counted by which it was."""
    outcome = "log_unavailable" if isinstance(exc, LogUnavailable) else "store_unavailable"
    PREDICTIONS.labels(version, outcome).inc(rows)
    return JSONResponse({"error": str(exc)}, status_code=503)


def count(version: str, answers: list[dict[str, Any]]) -> None:
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
