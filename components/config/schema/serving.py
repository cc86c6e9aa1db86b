"""The `serving` and `monitor` sections: the REST service and the monitoring policy."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlrig.components.config.schema.base import (
    ColumnType,
    Strict,
)


class Serving(Strict):
    """The REST service: where it listens, what a request holds, its limits."""

    host: str = Field("127.0.0.1", description="the address `mlrig serve` listens on")
    port: int = Field(3000, ge=1, le=65535, description="the port `mlrig serve` listens on")
    request_fields: dict[str, ColumnType] | None = Field(
        None, description="default: derived from the tables (keys, event time, request features)"
    )
    timezone: str | None = Field(None, description="deprecated: use dataset.timezone")
    log_predictions: bool = Field(True, description="commit every prediction to the log")
    reload_seconds: float = Field(
        30.0, ge=0, description="how often the service checks the champion alias (0: never)"
    )
    max_body_bytes: int = Field(
        2_097_152, ge=1024, description="larger request bodies are answered 413, unread"
    )
    max_batch_rows: int = Field(1000, ge=1, description="rows per /predict_batch request")
    shadow: int | None = Field(
        None,
        ge=1,
        description="a model version that scores every served request too, off the response "
        "path, its answers logged beside the served ones (default: the registry's `shadow` "
        "alias, set by `mlrig model shadow VERSION`)",
    )
    workers: int | None = Field(
        None, ge=1, description="worker processes (default: the CPUs given, cgroup limits included)"
    )


class Monitor(Strict):
    """When `mlrig monitor check` says retrain."""

    max_drifted_features: int = Field(2, ge=0, description="retrain when more features drift")
    prediction_psi: float = Field(0.2, gt=0, description="retrain when predictions drift more")
    use_estimates: bool = Field(
        False,
        description="judge a window without enough labels by its estimated metrics: a binary "
        "model's from its probabilities (when they were calibrated on the holdout), a "
        "regression's from its loss estimator (fitted on the holdout's errors)",
    )
    max_ece: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="probabilities count as calibrated when their expected calibration error on "
        "the holdout is at most this (estimates are shown either way, trusted only then)",
    )
    reasons_shift: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="name an input whose share of the answers' mean |contribution| moved by more "
        "than this between the reference and recent requests (explanation drift)",
    )
    metric_tolerance: float = Field(
        0.05, ge=0, description="retrain when a labelled window is worse than evaluation by more"
    )
    window: Literal["D", "W", "M"] = Field("W", description="performance windows: day/week/month")
    min_window_rows: int = Field(50, ge=1, description="smaller windows are reported, not judged")
    drift_rows: int = Field(
        50_000, ge=100, description="drift compares the latest this many served predictions"
    )
    min_days_served: float = Field(
        0,
        ge=0,
        description="retrain only after the champion has answered this many days of requests "
        "(event time) since it began answering or since the last retrain started; before that "
        "the check reports, not retrains (a drift the training data already held, or a retrain "
        "that lost the gate, would otherwise retrain again every day)",
    )
    log_retention_days: int | None = Field(
        90,
        ge=1,
        description="`mlrig monitor check` and `prune` delete predictions logged longer ago (the "
        "log grows about 1 KB a prediction); null keeps every prediction",
    )
