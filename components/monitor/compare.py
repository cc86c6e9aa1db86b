"""`mlrig monitor compare VERSION`: a version replayed on what another answered, or (--from-log)
its own answers as a live shadow (serving/shadow.py) beside what was served. Replayed, the logged
requests' model inputs (the log keeps the inputs each answer was given) are scored by both
versions; the report gives how often they agree, how far their scores are apart, what each took
per row, and once labels exist both versions' metrics with a paired bootstrap interval of their
difference (the same rows resampled for both, so the interval is of the difference, not of two
noises)."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.config.place import Place
from mlrig.components.contract.metrics import better, holdout_metrics, predict_codes, scores
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.integrations.mlflow.registry import Pinned, load_version
from mlrig.components.monitor.predlog import features_of, opened

BOOTSTRAP = 1000


class CannotCompare(ValueError):
    """The versions cannot be compared on this log; the message says why."""


def paired_interval(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, task: str, metric: str, seed: int = 0
) -> tuple[float, float, float]:
    """metric(a) - metric(b) on the rows, and its 95 % paired bootstrap interval."""
    rng = np.random.default_rng(seed)

    def value(score: np.ndarray, rows: np.ndarray) -> float:
        return holdout_metrics(y[rows], score[rows], task, only=metric)[metric]

    every = np.arange(len(y))
    diffs = []
    for _ in range(BOOTSTRAP):
        rows = rng.integers(0, len(y), len(y))
        diffs.append(value(a, rows) - value(b, rows))
    low, high = np.nanpercentile(diffs, [2.5, 97.5])
    return value(a, every) - value(b, every), float(low), float(high)


def _scored(pinned: Pinned, inputs: pd.DataFrame) -> tuple[np.ndarray, float]:
    c = pinned.contract
    lacking = [name for name in c.inputs if name not in inputs]
    if lacking:
        raise CannotCompare(
            f"v{pinned.version} takes inputs the log does not hold ({lacking[:5]}): its feature "
            "set differs from the logged version's"
        )
    frame = inputs[c.inputs]
    for name in c.inputs:  # the log's JSON: missing as None, numbers as numbers
        if name not in c.categorical:
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
    started = time.perf_counter()
    raw = scores(pinned.model, frame, c.task, len(c.classes))
    return raw, (time.perf_counter() - started) * 1000 / max(len(frame), 1)


def compare(
    place: Place, model: str, version: int, against: int, since: str | None = None
) -> dict[str, Any]:
    """Version against `against` on the requests `against` answered (since an ISO time)."""
    with opened(place) as log:
        logged = log.read(since, version=against, columns=["features", "label"])
    if logged.empty:
        when = f" since {since}" if since else ""
        raise CannotCompare(f"no logged predictions of v{against}{when}")
    mlflow = tracking.configure(place)
    ours, theirs = load_version(mlflow, model, version), load_version(mlflow, model, against)
    inputs = features_of(logged)
    a, a_ms = _scored(ours, inputs)
    b, b_ms = _scored(theirs, inputs)
    c = theirs.contract
    result: dict[str, Any] = {
        "version": version,
        "against": against,
        "rows": len(logged),
        "ms_per_row": {str(version): a_ms, str(against): b_ms},
    }
    result.update(_apart(a, b, c, ours.contract.threshold))
    result.update(_with_labels(logged, c, a, b, version, against))
    return result


def _apart(a: np.ndarray, b: np.ndarray, contract: Any, threshold: float) -> dict[str, float]:
    """How far two versions' scores of the same rows are apart (b by the contract's threshold,
    a by its own): a regression's mean absolute difference, a classifier's agreement."""
    if contract.task == "regression":
        return {"mean_abs_difference": float(np.mean(np.abs(a - b)))}
    ours = predict_codes(a, contract.task, threshold)
    theirs = predict_codes(b, contract.task, contract.threshold)
    return {
        "agreement": float(np.mean(ours == theirs)),
        "mean_abs_score_difference": float(np.mean(np.abs(a - b))),
    }


def _with_labels(
    logged: pd.DataFrame, contract: Any, a: np.ndarray, b: np.ndarray, version: int, against: int
) -> dict[str, Any]:
    labelled = logged.label.notna().to_numpy()
    if labelled.sum() < 2:
        return {"labelled_rows": int(labelled.sum())}

    y_raw = pd.Series([json.loads(v) for v in logged.label[labelled]])
    y = y_raw.astype(float).to_numpy() if contract.task == "regression" else contract.encode(y_raw)
    metric = {"regression": "rmse", "binary": "roc_auc"}.get(contract.task, "accuracy")
    diff, low, high = paired_interval(y, a[labelled], b[labelled], contract.task, metric)
    mine = holdout_metrics(y, a[labelled], contract.task, only=metric)[metric]
    gain = better(metric, mine, mine - diff)
    return {
        "labelled_rows": int(labelled.sum()),
        "metric": metric,
        "metrics": {str(version): mine, str(against): mine - diff},
        "difference": diff,
        "interval_95": [low, high],
        "verdict": _verdict(gain, low, high, metric, version, against),
        "better": None if low <= 0 <= high else (version if gain > 0 else against),
    }


def _verdict(gain: float, low: float, high: float, metric: str, version: int, against: int) -> str:
    if low <= 0 <= high:
        return f"no difference shown: the interval of {metric} differences holds 0"
    winner = version if gain > 0 else against
    return f"v{winner} is better on {metric} (the 95 % interval excludes 0)"


def compare_shadow(
    place: Place, model: str, version: int, against: int | None = None, since: str | None = None
) -> dict[str, Any]:
    """Version's logged shadow answers against what was served for the same requests (by
    `against`, default the served version with the most of them): the same report as a
    replay, with the shadow's failures counted and its own milliseconds per request."""
    with opened(place) as log:
        logged = log.read_shadows(version, since)
    when = f" since {since}" if since else ""
    if logged.empty:
        raise CannotCompare(
            f"no logged answers of v{version} as a shadow{when} (`mlrig model shadow {version}` "
            "makes it one)"
        )
    served = against or int(logged.served_version.value_counts().idxmax())
    logged = logged[logged.served_version == served].reset_index(drop=True)
    if logged.empty:
        raise CannotCompare(f"v{version} shadowed no request v{served} answered{when}")
    failed = logged.error.notna()
    answered = logged[~failed].reset_index(drop=True)
    mlflow = tracking.configure(place)
    ours, theirs = load_version(mlflow, model, version), load_version(mlflow, model, served)
    c = theirs.contract
    if (ours.contract.task, ours.contract.classes) != (c.task, c.classes):
        raise CannotCompare(f"v{version} and v{served} predict different tasks or classes")
    result: dict[str, Any] = {
        "version": version,
        "against": served,
        "rows": len(logged),
        "shadow_failed": int(failed.sum()),
        "shadow_errors": logged.error[failed].value_counts().head(3).to_dict(),
        "ms_per_row": {str(version): float(logged.ms.mean())},
    }
    if answered.empty:
        return result
    a = _logged_scores(answered.shadow_prediction, c)
    b = _logged_scores(answered.prediction, c)
    result.update(_apart(a, b, c, ours.contract.threshold))
    result.update(_with_labels(answered, c, a, b, version, served))
    return result


def _logged_scores(predictions: pd.Series, contract: Any) -> np.ndarray:
    """Logged answers as the model's scores: a binary's positive-class probability as the two
    columns scores() gives, a multiclass's probabilities in class order, a value."""
    answers = [json.loads(p) for p in predictions]
    if contract.task == "regression":
        return np.array([a["prediction"] for a in answers], dtype=float)
    if contract.task == "binary":
        positive = np.array([a["probability"] for a in answers], dtype=float)
        return np.column_stack([1 - positive, positive])
    names = [str(label) for label in contract.classes]
    return np.array([[a["probabilities"][n] for n in names] for a in answers], dtype=float)
