"""The ensemble candidate: a blend of the search's best models, weighted on their out-of-fold
predictions, and released only when it beats the single choice by more than the noise of their
comparison (the standard error of their per-fold differences).

The pool is the best finished trial of each candidate and LightGBM at its defaults (when the
defaults rule cross-validated it), at most POOL of them, all scored on the same folds. Weights
come from greedy ensemble selection with replacement (Caruana et al., 2004): each round adds the
model that most improves the blend's metric. The blend's CV is honest: each fold's weights are
chosen on the other folds' out-of-fold predictions and scored on that fold. The final weights
use every fold; the members are refitted like any candidate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlrig.components.contract.metrics import holdout_metrics
from mlrig.components.train.results import CvResult, SearchResult, paired_se

POOL = 4
ROUNDS = 20
NAME = "ensemble"


@dataclass(frozen=True)
class Member:
    """A model of the blend: its candidate, parameters and weight."""

    name: str
    params: dict[str, Any]
    weight: float


@dataclass(frozen=True)
class Scored:
    """A pool entry: its candidate, parameters, fold metrics and out-of-fold scores."""

    name: str
    params: dict[str, Any]
    cv: Any  # search.CvResult


def greedy_weights(
    preds: list[np.ndarray], y: np.ndarray, task: str, metric: str, lower: bool
) -> np.ndarray:
    """Each model's share in ROUNDS rounds of greedy selection with replacement."""
    counts = np.zeros(len(preds))
    total = np.zeros_like(preds[0], dtype=float)
    for r in range(ROUNDS):
        values = [_metric(y, (total + p) / (r + 1), task, metric) for p in preds]
        pick = int(np.nanargmin(values) if lower else np.nanargmax(values))
        counts[pick] += 1
        total = total + preds[pick]
    return counts / counts.sum()


def _metric(y: np.ndarray, score: np.ndarray, task: str, metric: str) -> float:
    value = holdout_metrics(y, score, task, only=metric)[metric]
    return float(value) if value is not None else float("nan")


def pool(
    results: dict[int, Any], log: list[dict[str, Any]], default: Any, lower: bool, metric: str
) -> list[Scored]:
    """The best finished trial of each candidate, and the defaults' CV: the top POOL of them."""
    trials = {r["trial"]: r for r in log if r.get("state") == "complete"}
    best: dict[str, Scored] = {}
    for number, cv in results.items():
        if number not in trials:
            continue
        entry = Scored(trials[number]["candidate"], trials[number]["params"], cv)
        held = best.get(entry.name)
        if held is None or _better(_mean(entry.cv, metric), _mean(held.cv, metric), lower):
            best[entry.name] = entry
    entries = list(best.values())
    if default is not None:
        entries.append(Scored("lightgbm", {}, default))
    entries.sort(key=lambda e: _mean(e.cv, metric), reverse=not lower)
    first = entries[0].cv.oof_index if entries else None
    same = [e for e in entries if np.array_equal(e.cv.oof_index, first)]
    return same[:POOL]


def _mean(cv: Any, metric: str) -> float:
    value = cv.summary()[f"cv_{metric}_mean"]
    return value if math.isfinite(value) else (math.inf)


def _better(a: float, b: float, lower: bool) -> bool:
    return a < b if lower else a > b


def cross_fitted(
    entries: list[Scored], y: np.ndarray, task: str, metric: str, lower: bool
) -> tuple[list[dict[str, float]], np.ndarray, np.ndarray]:
    """The blend's fold metrics and out-of-fold scores, each fold weighted on the other folds
    only; and the weights chosen on every fold."""
    first = entries[0].cv
    y_oof = y[first.oof_index]
    preds = [np.asarray(e.cv.oof_score, dtype=float) for e in entries]
    bounds = np.cumsum([0, *first.fold_sizes])
    folds, blended = [], np.zeros_like(preds[0])
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        rest = np.r_[0:start, stop : len(y_oof)]
        if not len(rest):
            return [], blended, np.array([])
        weights = greedy_weights([p[rest] for p in preds], y_oof[rest], task, metric, lower)
        blended[start:stop] = sum(w * p[start:stop] for w, p in zip(weights, preds, strict=True))
        folds.append(holdout_metrics(y_oof[start:stop], blended[start:stop], task))
    return folds, blended, greedy_weights(preds, y_oof, task, metric, lower)


def consider(
    result: SearchResult,
    entries: list[Scored],
    y: np.ndarray,
    task: str,
    metric: str,
    lower: bool,
    pick: np.ndarray,
) -> SearchResult:
    """The blend of the pool when its CV beats the single choice's by more than the blend's
    standard error; else the single choice, saying why. y: the tuning rows' targets; pick: the
    training rows they are."""
    if len(entries) < 2:
        result.ensemble_rule = "one model in the pool: no blend"
        return result
    folds, blended, weights = cross_fitted(entries, y, task, metric, lower)
    members = [
        Member(e.name, e.params, float(w)) for e, w in zip(entries, weights, strict=True) if w > 0
    ]
    if not folds or len(members) < 2:
        result.ensemble_rule = f"the blend keeps one model: {result.name} stands"
        return result
    sizes = entries[0].cv.fold_sizes
    cv = CvResult(folds, pick[entries[0].cv.oof_index], blended, sizes)
    summary = cv.summary()
    ours, theirs = summary[f"cv_{metric}_mean"], result.cv[f"cv_{metric}_mean"]
    se = paired_se(folds, result.oof.folds, metric)
    gain = (theirs - ours) if lower else (ours - theirs)
    shares = ", ".join(f"{_label(m)} {m.weight:.2f}" for m in members)
    numbers = f"{metric} {ours:.4f} against {theirs:.4f}, standard error {se:.4f}"
    if not (math.isfinite(gain) and gain > se):
        result.ensemble_rule = (
            f"{result.name} kept: the blend ({shares}) does not beat it by more than the standard "
            f"error of their per-fold differences ({numbers})"
        )
        return result
    return SearchResult(
        name=NAME,
        params={_label(m): round(m.weight, 4) for m in members},
        cv=summary,
        cv_scheme=result.cv_scheme,
        oof=cv,
        trials=result.trials,
        best_trial=-1,
        wide=result.wide,
        default_rule=result.default_rule,
        members=members,
        ensemble_rule=f"blend released ({shares}): it beats {result.name} ({numbers})",
    )


def _label(member: Member) -> str:
    return member.name if member.params else f"{member.name}_defaults"
