"""Metrics by task (binary, multiclass with macro averages, regression), for holdout and CV.

scikit-learn's metrics are imported where they are used: serving imports scores() and
predict_codes(), and sklearn.metrics (with scipy.stats) would add 1.5 s to its start."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlrig.components.config.schema import LOWER_IS_BETTER


def scores(model: Any, x: Any, task: str, n_classes: int | None = None) -> np.ndarray:
    """Class probabilities (n × k, one column per encoded class even when the model never saw
    some class) for classifiers, predictions for regression."""
    if task == "regression":
        return model.predict(x)
    proba = model.predict_proba(x)
    seen = [int(c) for c in model.classes_]
    k = max(n_classes or 0, max(seen) + 1)
    if seen == list(range(k)):
        return proba
    full = np.zeros((proba.shape[0], k))
    full[:, seen] = proba
    return full


def binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC as the Mann-Whitney statistic on average ranks (ties count half): the value
    scikit-learn's roc_auc_score gives, without its input checks, which cost more than the
    computation on a holdout and are paid hundreds of times by the bootstrap and permutation
    importance. NaN when one side is empty."""
    positive = np.asarray(positive, dtype=bool)
    score = np.asarray(score, dtype=float)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    if not np.isfinite(score).all():
        raise ValueError("ROC-AUC: the scores hold NaN or infinite values")
    order = np.argsort(score, kind="mergesort")
    ranked = score[order]
    first = np.r_[True, ranked[1:] != ranked[:-1]]  # where each run of tied scores starts
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(ranked)]
    ranks = np.empty(len(score))
    ranks[order] = ((starts + ends + 1) / 2.0)[np.cumsum(first) - 1]
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def ovr_auc(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Macro one-vs-rest ROC-AUC over the classes that occur (both sides) in y_true."""
    values = [binary_auc(y_true == c, proba[:, c]) for c in range(proba.shape[1])]
    finite = [v for v in values if not np.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")


def predict_codes(proba: np.ndarray, task: str, threshold: float = 0.5) -> np.ndarray:
    """Encoded classes: binary by the threshold on the positive column, multiclass by argmax."""
    if task == "binary":
        return (proba[:, 1] >= threshold).astype(int)
    return np.argmax(proba, axis=1)


def holdout_metrics(
    y_true: np.ndarray,
    y_score: np.ndarray,
    task: str,
    threshold: float = 0.5,
    only: str | None = None,
) -> dict[str, float]:
    """accuracy/precision/recall/F1/ROC-AUC/log loss (binary at the threshold, multiclass macro),
    or RMSE/MAE/R². y_true holds encoded classes for classifiers. only: just that metric (each
    costs scikit-learn's input checks: permutation importance asks for one, many times)."""
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        log_loss,
        mean_absolute_error,
        precision_score,
        r2_score,
        recall_score,
        root_mean_squared_error,
    )

    metrics: dict[str, Any]
    if task == "regression":
        metrics = {
            "rmse": lambda: root_mean_squared_error(y_true, y_score),
            "mae": lambda: mean_absolute_error(y_true, y_score),
            "r2": lambda: r2_score(y_true, y_score),
        }
    else:
        k = y_score.shape[1]
        y_pred = predict_codes(y_score, task, threshold)
        avg = "binary" if task == "binary" else "macro"
        metrics = {
            "accuracy": lambda: accuracy_score(y_true, y_pred),
            "precision": lambda: precision_score(y_true, y_pred, average=avg, zero_division=0),
            "recall": lambda: recall_score(y_true, y_pred, average=avg, zero_division=0),
            "f1": lambda: f1_score(y_true, y_pred, average=avg, zero_division=0),
            "log_loss": lambda: log_loss(y_true, y_score, labels=list(range(k))),
            "roc_auc": (
                (lambda: binary_auc(y_true == 1, y_score[:, 1]))
                if task == "binary"
                else (lambda: ovr_auc(y_true, y_score))
            ),
        }
        if task == "binary":
            metrics["positive_rate"] = lambda: np.mean(y_true)
    return {name: float(metrics[name]()) for name in ([only] if only else metrics)}


def holdout_noise(
    y_true: np.ndarray,
    y_score: np.ndarray,
    task: str,
    metric: str,
    threshold: float = 0.5,
    seed: int = 0,
    resamples: int = 100,
    cap: int = 20_000,
) -> float:
    """The standard error of the holdout's metric from bootstrap resamples of its rows: how far
    another holdout of the same size would land by chance. A holdout over `cap` rows is resampled
    `cap` at a time and the spread scaled to its size."""
    n = len(y_true)
    if n < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    size = min(n, cap)
    values = []
    for _ in range(resamples):
        rows = rng.integers(0, n, size)
        values.append(holdout_metrics(y_true[rows], y_score[rows], task, threshold, metric)[metric])
    finite = np.asarray(values)[np.isfinite(values)]
    if len(finite) < 2:
        return float("nan")
    return float(np.std(finite, ddof=1) * np.sqrt(size / n))


def better(metric: str, challenger: float, champion: float) -> float:
    """How much better the challenger is (positive = better), whatever the metric's direction."""
    return champion - challenger if metric in LOWER_IS_BETTER else challenger - champion


ECE_BINS = 10


def calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error: over equal-width bins of p, the rows' share times
    |mean p - share positive|."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(p[inside].mean() - y[inside].mean())
    return float(total)
