"""Budgeted tuning with Optuna: one study over every candidate and its search space, scored by the
cross-validation of splits.cv_splitter on the training part only, pruned after weak first folds,
deterministic under the seed (trials run one after another)."""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from mlrig.components.config.schema import LOWER_IS_BETTER, Range
from mlrig.components.config.schema import Model as ModelSpec
from mlrig.components.config.schema.base import OPTIONAL_LEARNERS
from mlrig.components.contract.metrics import holdout_metrics, scores
from mlrig.components.train import ensemble
from mlrig.components.train.core import build_pipeline, fit, space_of, wide_categoricals
from mlrig.components.train.results import CvResult, SearchResult, paired_se
from mlrig.components.train.splits import cv_scheme, cv_splitter


class TrainingError(ValueError):
    """Training cannot start as configured; the message names the problem."""


def cross_validate(
    pipe: Any,
    x: pd.DataFrame,
    y: np.ndarray,
    splitter: Any,
    task: str,
    n_classes: int,
    on_fold: Callable[[int, list[dict[str, float]]], None] | None = None,
) -> CvResult:
    """Fit and score fold by fold; every metric of the task per fold, and the out-of-fold
    predictions. on_fold may raise to stop early (pruning)."""
    folds: list[dict[str, float]] = []
    index, preds = [], []
    for i, (train_idx, test_idx) in enumerate(splitter.split(x, y)):
        model = fit(clone(pipe), x.iloc[train_idx], y[train_idx])
        pred = scores(model, x.iloc[test_idx], task, n_classes)
        folds.append(holdout_metrics(y[test_idx], pred, task))
        index.append(test_idx)
        preds.append(pred)
        if on_fold:
            on_fold(i, folds)
    sizes = [len(i) for i in index]
    return CvResult(folds, np.concatenate(index), np.concatenate(preds), sizes)


def _suggest(trial: Any, name: str, space: dict[str, Any]) -> dict[str, Any]:
    params = {}
    for key, spec in space.items():
        label = f"{name}.{key}"
        if isinstance(spec, Range):
            if spec.int:
                params[key] = trial.suggest_int(label, int(spec.low), int(spec.high), log=spec.log)
            else:
                params[key] = trial.suggest_float(label, spec.low, spec.high, log=spec.log)
        else:
            params[key] = trial.suggest_categorical(label, list(spec))
    return params


def check_budget(n_rows: int, y: np.ndarray, task: str, spec: ModelSpec) -> None:
    """Bad inputs named before any fit."""
    if n_rows < spec.cv_folds + 1:
        raise TrainingError(
            f"model.cv_folds: {spec.cv_folds} folds need more than {n_rows} training rows"
        )
    for name, module in OPTIONAL_LEARNERS.items():
        if name in spec.candidates and importlib.util.find_spec(module) is None:
            raise TrainingError(
                f"model.candidates.{name}: the {module} package is not installed "
                '(pip install "mlrig[learners]")'
            )
    if task != "regression":
        counts = np.bincount(y[y >= 0])
        if (counts > 0).sum() < 2:
            raise TrainingError("the training part has a single class: nothing to classify")


def tune(
    train: pd.DataFrame,
    y: np.ndarray,
    inputs: list[str],
    categorical: list[str],
    task: str,
    n_classes: int,
    spec: ModelSpec,
    times: pd.Series | None,
    on_trial: Callable[[dict[str, Any]], None] | None = None,
    text: list[str] | None = None,
    groups: np.ndarray | None = None,
) -> SearchResult:
    """Search every candidate's space within the budget; the best trial's CV (all metrics) and
    out-of-fold predictions come back with it. text: the categoricals that are free text; groups:
    each row's entity, whose rows the folds keep together (splits.py)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    check_budget(len(train), y, task, spec)
    pick = _tuning_rows(len(train), spec)
    sampled = len(pick) < len(train)  # else no copy
    x_tune = train.iloc[pick][inputs].reset_index(drop=True) if sampled else train[inputs]
    tune_times = times.iloc[pick].reset_index(drop=True) if times is not None else None
    tune_groups = groups[pick] if groups is not None else None
    wide = wide_categoricals(x_tune, [c for c in categorical if c not in (text or [])])
    objective = _Objective(
        spaces={name: space_of(name, space) for name, space in spec.candidates.items()},
        x=x_tune,
        y=y[pick],
        splitter=cv_splitter(task, spec.cv_folds, spec.random_state, tune_times, tune_groups),
        task=task,
        n_classes=n_classes,
        categorical=categorical,
        numeric=[c for c in inputs if c not in categorical],
        wide=wide,
        text=text,
        spec=spec,
        on_trial=on_trial,
    )
    study = optuna.create_study(
        direction="minimize" if objective.lower else "maximize",
        sampler=optuna.samplers.TPESampler(seed=spec.random_state, n_startup_trials=5),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=0),
    )
    seconds = spec.tuning.timeout_s or budget_seconds(len(x_tune), len(inputs))
    study.optimize(objective, n_trials=spec.tuning.trials, timeout=seconds)
    scheme = cv_scheme(spec.cv_folds, times is not None, groups is not None)
    result = _best(study, objective, pick, scheme)
    if spec.prefer_defaults:
        result = against_default(result, objective, pick)
    if spec.ensemble:
        entries = ensemble.pool(
            objective.results, objective.log, objective.defaults, objective.lower, objective.metric
        )
        args = (objective.y, task, objective.metric, objective.lower, pick)
        result = ensemble.consider(result, entries, *args)
    result.budget = _budget_note(len(study.trials), spec, seconds, len(x_tune), len(inputs))
    return result


BASE_SECONDS, CELLS_PER_SECOND, MAX_SECONDS = 300.0, 10_000, 1800.0


def budget_seconds(rows: int, inputs: int) -> float:
    """The tuning time budget when model.tuning.timeout_s is not set: five minutes plus a second
    per 10,000 cells (rows x inputs) of the rows tuning sees, at most half an hour. Small tables
    end on their trial count (a busy machine must not change which trials ran); a wide or long
    one stops starting trials on time."""
    return min(MAX_SECONDS, BASE_SECONDS + rows * inputs / CELLS_PER_SECOND)


def _budget_note(ran: int, spec: ModelSpec, seconds: float, rows: int, inputs: int) -> str:
    how = "set" if spec.tuning.timeout_s else f"scaled to {rows:,} rows x {inputs} inputs"
    ended = "the time" if ran < spec.tuning.trials else "the trial count"
    return f"{ran} of {spec.tuning.trials} trials within {seconds:.0f} s ({how}); ended by {ended}"


def _best(study: Any, objective: _Objective, pick: np.ndarray, scheme: str) -> SearchResult:
    """The best finished trial, its CV and out-of-fold scores (on the training part's rows)."""
    finished = [t for t in study.trials if t.number in objective.results]
    if not finished:
        raise TrainingError("no tuning trial finished within the budget (model.tuning)")
    pick_best = min if objective.lower else max
    best = pick_best(finished, key=lambda t: t.value)
    name = best.params["candidate"]
    params = {k.split(".", 1)[1]: v for k, v in best.params.items() if k.startswith(name + ".")}
    oof = objective.results[best.number]
    return SearchResult(
        name=name,
        params=params,
        cv=oof.summary(),
        cv_scheme=scheme,
        oof=CvResult(oof.folds, pick[oof.oof_index], oof.oof_score, oof.fold_sizes),
        trials=objective.log,
        best_trial=best.number,
        wide=objective.wide,
    )


def _tuning_rows(n_rows: int, spec: ModelSpec) -> np.ndarray:
    """The rows tuning sees: a seeded sample of tuning_sample_rows, in order, or all of them."""
    n = min(spec.tuning_sample_rows, n_rows)
    if n == n_rows:
        return np.arange(n_rows)
    rng = np.random.default_rng(spec.random_state)
    return np.sort(rng.choice(n_rows, size=n, replace=False))


@dataclass
class _Objective:
    """One trial: a candidate and its parameters, cross-validated (pruned when the median
    pruner says so); every trial is logged, and each finished one's CV kept."""

    spaces: dict[str, Any]
    x: pd.DataFrame
    y: np.ndarray
    splitter: Any
    task: str
    n_classes: int
    categorical: list[str]
    numeric: list[str]
    wide: Any
    text: list[str] | None
    spec: ModelSpec
    on_trial: Callable[[dict[str, Any]], None] | None
    results: dict[int, CvResult] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    defaults: CvResult | None = None  # LightGBM at its defaults, when against_default ran it

    @property
    def metric(self) -> str:
        return self.spec.primary_metric or ""

    @property
    def lower(self) -> bool:
        return self.metric in LOWER_IS_BETTER

    def __call__(self, trial: Any) -> float:
        name = trial.suggest_categorical("candidate", list(self.spaces))
        params = _suggest(trial, name, self.spaces[name])
        pipe = build_pipeline(
            name,
            self.task,
            self.numeric,
            self.categorical,
            self.spec.random_state,
            params,
            self.wide,
            self.text,
        )
        started = time.perf_counter()
        record = {"trial": trial.number, "candidate": name, "params": params}
        on_fold = self._pruning(trial, record, started)
        result = cross_validate(
            pipe, self.x, self.y, self.splitter, self.task, self.n_classes, on_fold
        )
        cv = result.summary()
        value = cv[f"cv_{self.metric}_mean"]
        self._note(
            {
                **record,
                "state": "complete",
                "cv_score": value,
                "cv": cv,
                "seconds": time.perf_counter() - started,
            }
        )
        if not np.isfinite(value):
            return float("inf") if self.lower else float("-inf")
        self.results[trial.number] = result
        return value

    def _pruning(self, trial: Any, record: dict, started: float) -> Callable:
        import optuna

        def on_fold(i: int, folds: list[dict[str, float]]) -> None:
            values = [f[self.metric] for f in folds if np.isfinite(f[self.metric])]
            if self.spec.tuning.prune and values:
                trial.report(float(np.mean(values)), i)
                if trial.should_prune():
                    self._note(
                        {
                            **record,
                            "state": "pruned",
                            "cv_score": float(np.mean(values)),
                            "folds": i + 1,
                            "seconds": time.perf_counter() - started,
                        }
                    )
                    raise optuna.TrialPruned()

        return on_fold

    def _note(self, record: dict[str, Any]) -> None:
        self.log.append(record)
        if self.on_trial:
            self.on_trial(record)


DEFAULT = "lightgbm"


def against_default(result: SearchResult, tuning: Any, pick: Any) -> SearchResult:
    """The search's result, or LightGBM at its defaults when the tuned choice does not beat it
    by more than the standard error of their per-fold differences. tuning: the search's objective
    (rows, folds, task).

    A search over a few dozen trials with three folds is noisy: the best trial often wins by less
    than the folds disagree. The default model is cross-validated on the tuning rows and folds the
    search used, and the tuned choice is released only when its mean beats the default's by more
    than the standard error of the per-fold differences (paired_se); otherwise the default is
    released, and the run says which and why (`model.prefer_defaults: false` turns the
    rule off)."""
    if importlib.util.find_spec(DEFAULT) is None:
        result.default_rule = "LightGBM is not installed: the tuned choice stands"
        return result
    if result.name == DEFAULT and not result.params:
        result.default_rule = "the tuned choice is LightGBM at its default parameters"
        return result
    seed = tuning.spec.random_state
    pipe = build_pipeline(
        DEFAULT, tuning.task, tuning.numeric, tuning.categorical, seed, {}, tuning.wide, tuning.text
    )
    x, y = tuning.x, tuning.y
    default = cross_validate(pipe, x, y, tuning.splitter, tuning.task, tuning.n_classes)
    tuning.defaults = default
    metric = tuning.metric
    ours, theirs = result.cv[f"cv_{metric}_mean"], default.summary()[f"cv_{metric}_mean"]
    se = paired_se(result.oof.folds, default.folds, metric)
    gain = (theirs - ours) if tuning.lower else (ours - theirs)
    numbers = f"{metric} {ours:.4f} against {theirs:.4f}, standard error {se:.4f}"
    if (math.isfinite(gain) and gain > se) or not math.isfinite(theirs):
        result.default_rule = f"tuned {result.name} kept: it beats LightGBM defaults ({numbers})"
        return result
    return SearchResult(
        name=DEFAULT,
        params={},
        cv=default.summary(),
        cv_scheme=result.cv_scheme,
        oof=CvResult(default.folds, pick[default.oof_index], default.oof_score, default.fold_sizes),
        trials=result.trials,
        best_trial=-1,
        wide=result.wide,
        default_rule=f"LightGBM defaults released: tuned {result.name} does not beat them by "
        f"more than the standard error of their per-fold differences ({numbers})",
    )
