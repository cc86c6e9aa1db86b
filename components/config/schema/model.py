"""The `model` section: candidates and their search spaces, tuning, the threshold and the gate."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mlrig.components.config.schema.base import (
    CandidateName,
    Strict,
)


class Range(Strict):
    """A numeric search range: floats, or ints with int: true; log: true samples on a log scale."""

    low: float = Field(description="the range's lower end")
    high: float = Field(description="the range's upper end")
    log: bool = Field(False, description="sample on a log scale")
    int: bool = Field(False, description="sample whole numbers")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low < self.high:
            raise ValueError(f"range low {self.low} must be below high {self.high}")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self


SearchSpace = dict[str, list[float | int | str | bool] | Range]


class Tuning(Strict):
    """The search budget: trials and/or seconds (whichever ends first)."""

    trials: int = Field(20, ge=1, description="at most this many configurations")
    timeout_s: float | None = Field(
        None,
        gt=0,
        description="stop starting trials after this many seconds (default: scaled to the "
        "table, five minutes plus a second per 10,000 cells of the tuning rows, at most 30 "
        "minutes)",
    )
    prune: bool = Field(True, description="stop a trial early when its first folds are poor")


class Threshold(Strict):
    """Binary classification: how the decision threshold is chosen on out-of-fold predictions."""

    rule: Literal["fixed", "max_f1", "precision", "recall", "cost"] = Field(
        "max_f1",
        description="how a binary model's decision threshold is chosen on out-of-fold scores: "
        "fixed, max_f1, a precision or recall floor, or the least cost",
    )
    value: float = Field(
        0.5, gt=0, lt=1, description="fixed: the threshold; precision/recall: the target to reach"
    )
    cost_fp: float = Field(1.0, gt=0, description="cost: price of a false positive")
    cost_fn: float = Field(1.0, gt=0, description="cost: price of a false negative")


class Gate(Strict):
    """When a challenger replaces the champion automatically."""

    margin: float = Field(0.0, ge=0, description="must beat the champion by more than this")
    min_metric: float | None = Field(None, description="never promote below (above for errors)")
    auto_promote: bool = Field(True, description="false: promotion only by mlrig model promote")
    shadow_days: float | None = Field(
        None,
        gt=0,
        description="a challenger that passes the gate first shadows the champion (every served "
        "request scored by it too); `mlrig monitor check` promotes it once it has answered this "
        "many days of requests (event time) and its paired comparison on their labels shows it "
        "better, and retires it when it does not",
    )


class Model(Strict):
    """The candidates and how they are tuned, validated, thresholded and promoted."""

    name: str = Field("", description="the registered model's name (default: the project's name)")
    candidates: dict[CandidateName, SearchSpace] = Field(
        default_factory=dict, description="candidates and search spaces; {} uses the defaults"
    )
    tuning: Tuning = Field(default_factory=Tuning)
    threshold: Threshold = Field(default_factory=Threshold)
    gate: Gate = Field(default_factory=Gate)
    slices: list[str] = Field(
        default_factory=list, description="categorical main-table columns to report metrics by"
    )
    min_slice_rows: int = Field(30, ge=1, description="smaller slices are flagged")
    calibrate: Literal["none", "sigmoid"] = Field(
        "none", description="binary: sigmoid calibration fitted on out-of-fold predictions"
    )
    prefer_defaults: bool = Field(
        True,
        description="release LightGBM at its default parameters unless the tuned choice beats "
        "it on the same CV folds by more than the standard error of their per-fold differences",
    )
    ensemble: bool = Field(
        True,
        description="also try a blend of the best candidates' out-of-fold predictions; released "
        "only when it beats the single choice on the same CV folds by more than the standard "
        "error of their per-fold differences",
    )
    refit_on_all: bool = Field(
        True, description="release a model refitted on train + holdout after evaluation"
    )
    holdout_fraction: float = Field(
        0.2,
        gt=0,
        lt=0.9,
        description="the share of rows held out (the latest times, or a random share)",
    )
    cv_folds: int = Field(
        3,
        ge=2,
        le=20,
        description="cross-validation folds (forward-chaining over time when there is an event "
        "time)",
    )
    cv_holdout_margin: float = Field(
        0.05,
        ge=0,
        description="flag the run when CV and holdout differ by more than this (for rmse and "
        "mae: this fraction of the CV value)",
    )
    tuning_sample_rows: int = Field(
        50_000,
        gt=100,
        description="tuning sees a seeded sample of at most this many training rows; the final "
        "fit sees all",
    )
    linear_fit_rows: int = Field(
        2_000_000,
        gt=100,
        description="a linear model (logistic_regression, ridge) is fitted on a seeded sample of "
        "at most this many rows: its coefficients are as well determined by two million rows as "
        "by ten, and its encoded matrix is the largest thing training holds in memory",
    )
    primary_metric: str | None = Field(None, description="default: roc_auc or rmse by task")
    promotion_min_delta: float | None = Field(None, description="deprecated: use gate.margin")
    random_state: int = Field(
        42, description="the seed of every random choice (splits, samples, searches, models)"
    )
