"""Train stage I/O: split, fit and tune, then track everything (with the model's contract) in
one MLflow run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mlrig.components.config.loader import from_json
from mlrig.components.config.schema import Model
from mlrig.components.contract.blend import Blend
from mlrig.components.contract.contract import Contract, label_classes
from mlrig.components.contract.metrics import holdout_metrics, scores
from mlrig.components.contract.threads import set_threads
from mlrig.components.contract.timeutil import too_few_times
from mlrig.components.integrations.mlflow import modelfile, tracking
from mlrig.components.runtime import cache, cpus, events, tables
from mlrig.components.runtime.catalog import (
    EVENT_TS,
    HOLDOUT,
    RUN_FILE,
    TRAINING_SET,
)
from mlrig.components.train import trees
from mlrig.components.train.core import (
    Fitted,
    PlattCalibrated,
    build_pipeline,
    fit_platt,
    rows_to_fit,
)
from mlrig.components.train.core import fit as fit_model
from mlrig.components.train.ensemble import Member
from mlrig.components.train.search import tune
from mlrig.components.train.splits import fold_groups, group_ids, random_split, time_split
from mlrig.components.train.threshold import choose
from mlrig.components.train.tracked import RunFacts, track


def run_exists(config_json: str, result: dict) -> bool:
    """A cached training result is reusable only while its MLflow run is still there."""
    mlflow = tracking.configure(from_json(config_json).place)
    try:
        return mlflow.get_run(result["run_id"]).info.lifecycle_stage == "active"
    except Exception:  # MLflow raises its own not-found error per store
        return False


@cache.stage(
    "train", inputs=("training_dir",), outputs=("model_dir", "holdout_dir"), still_valid=run_exists
)
def run(config_json: str, training_dir: str, model_dir: str, holdout_dir: str) -> dict:
    """Fit the candidates; log params, search, data version, the model and its contract."""
    loaded = from_json(config_json)
    cfg = loaded.config
    meta = tables.read_manifest(training_dir)
    frame = tables.read_tables(training_dir)[TRAINING_SET]
    contract = Contract.load(training_dir)
    modelfile.import_reader()  # MLflow writes the model with skops: it costs less before MLflow
    threads = cpus.work_threads()  # the CPUs this pod or process is given
    with events.stage("train") as out, cpus.limited(threads):
        out["threads"] = threads
        main = cfg.dataset.tables[cfg.dataset.main].all_columns()
        contract.task, contract.classes, contract.positive_label = label_classes(
            frame[contract.target],
            cfg.dataset.task,
            cfg.dataset.positive_label,
            main.get(contract.target),
        )
        split, by_time = _split(frame, contract, cfg.model, out)
        del frame  # the split holds the rows from here on
        with trees.for_table(len(split.train)):  # how many trees every fit grows
            fitted = _fit(split, by_time, contract, cfg.model, out)
        mlflow = tracking.configure(loaded.place)
        facts = RunFacts(cfg.project, cfg.profile, tracking.git_commit(loaded.root))
        run_info = track(mlflow, fitted, contract, meta, facts, Path(model_dir))
        tables.write_json(model_dir, RUN_FILE, run_info)
        contract.save(model_dir)
        tables.write_tables(holdout_dir, {HOLDOUT: split.holdout}, {"holdout": split.how})
        result, metric = fitted.result, cfg.model.primary_metric
        out.update(
            {
                "trials": len(result.trials),
                "budget": result.budget,
                "best": result.name,
                "params": result.params,
                "task": contract.task,
                f"cv_{metric}": _mean_std(result.cv, metric),
                "cv": result.cv_scheme,
                "train_rows": len(split.train),
                "holdout": split.how,
                "defaults": result.default_rule,
                "ensemble": result.ensemble_rule,
                "run_id": run_info["run_id"][:8],
            }
        )
    return run_info


def _split(frame: pd.DataFrame, contract: Contract, model: Model, out: dict) -> tuple[Any, bool]:
    """The holdout: the latest times, or a seeded random one when the rows have one event time
    (or too few for the folds); whether the CV folds follow time."""
    timed = contract.event_time is not None
    few = too_few_times(frame[EVENT_TS], model.cv_folds) if timed else None
    if timed and not few:
        return time_split(frame, EVENT_TS, model.holdout_fraction), True
    y_all = contract.targets(frame) if contract.is_classifier else None
    parts = max(2, round(1 / model.holdout_fraction), model.cv_folds)
    groups = group_ids(frame, list(contract.entity_keys), parts)
    split = random_split(frame, y_all, model.holdout_fraction, model.random_state, groups)
    if few:  # features stay point-in-time as of each row's own time
        split.how += f"; {few}: random holdout and shuffled CV"
        out["split_note"] = split.how
    return split, False


def _fit(split: Any, by_time: bool, contract: Contract, model: Model, out: dict) -> Fitted:
    """Tune on the training part, choose the threshold, fit the holdout's model, the baseline
    and (refit_on_all) the released model on every row."""
    y_train = contract.targets(split.train)
    groups = fold_groups(split, model.cv_folds)  # the holdout's entities, folded whole
    result = tune(
        split.train,
        y_train,
        contract.inputs,
        contract.categorical,
        contract.task,
        len(contract.classes),
        model,
        split.train[EVENT_TS] if by_time else None,
        on_trial=lambda t: out.update(trials=t["trial"] + 1),
        text=contract.text,
        groups=groups,
    )
    threshold_note, platt = "", None
    if contract.task == "binary":
        y_oof, p_oof = y_train[result.oof.oof_index], result.oof.oof_score[:, 1]
        if model.calibrate == "sigmoid":
            platt = fit_platt(y_oof, p_oof)
            p_oof = PlattCalibrated(None, *platt).calibrate(p_oof)
        contract.threshold, threshold_note = choose(y_oof, p_oof, model.threshold)
    numeric = [c for c in contract.inputs if c not in contract.categorical]

    def fit(frame: pd.DataFrame) -> object:
        x, y = frame[contract.inputs], contract.targets(frame)
        chosen = result.members or [Member(result.name, result.params, 1.0)]
        pipes = [_fit_one(m, contract, numeric, model, result.wide, x, y) for m in chosen]
        released = (
            pipes[0]
            if not result.members
            else Blend(pipes, [m.weight for m in chosen], contract.task)
        )
        return PlattCalibrated(released, *platt) if platt else released

    evaluated = fit(split.train)  # what the holdout judges, once, in the evaluate stage
    baseline = baseline_on_holdout(contract, split, numeric, model.random_state)
    fitted = Fitted(
        split,
        result,
        evaluated,
        evaluated,
        baseline,
        threshold_note,
        model.refit_on_all,
        model.random_state,
        model.calibrate,
    )
    if model.refit_on_all:
        fitted.released = fit(fitted.released_rows)
    return fitted


def _fit_one(
    member: Member,
    contract: Contract,
    numeric: list[str],
    model: Model,
    wide: list[str],
    x: pd.DataFrame,
    y: Any,
) -> Any:
    """One candidate's pipeline with its parameters, fitted (a linear model on at most
    model.linear_fit_rows of the rows, a seeded sample)."""
    pipe = build_pipeline(
        member.name,
        contract.task,
        numeric,
        contract.categorical,
        model.random_state,
        member.params,
        wide,
        contract.text,
    )
    x, y = rows_to_fit(member.name, x, y, model.linear_fit_rows, model.random_state)
    fit_model(pipe, x, y)
    return set_threads(pipe, 1)  # one row at a time in serving: one thread


def baseline_on_holdout(contract: Contract, split: Any, numeric: list[str], seed: int) -> dict:
    """LightGBM with its default parameters, fitted on the same training part and scored on the
    holdout: the bar the tuned model is shown against."""
    pipe = build_pipeline(
        "lightgbm", contract.task, numeric, contract.categorical, seed, text=contract.text
    )
    # the histogram layout every other fit has: left to itself LightGBM times both layouts on
    # the rows first, and a busy machine changes its pick and so the bar
    pipe.steps[-1][1].set_params(**trees.layout(len(contract.inputs)))
    pipe.fit(split.train[contract.inputs], contract.targets(split.train))
    pred = scores(pipe, split.holdout[contract.inputs], contract.task, len(contract.classes))
    values = holdout_metrics(contract.targets(split.holdout), pred, contract.task, 0.5)
    return {"model": "lightgbm, default parameters", **values}


def _mean_std(cv: dict[str, float], metric: str) -> str:
    return f"{cv[f'cv_{metric}_mean']:.4f} ± {cv[f'cv_{metric}_std']:.4f}"
