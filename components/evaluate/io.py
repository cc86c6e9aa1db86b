"""Evaluate stage I/O: the holdout scored once by the model fitted without it (nothing is
refitted), beside the CV that training ran; an HTML report with plots, all logged to the
training run."""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

from mlrig.components.config.loader import from_json
from mlrig.components.contract.contract import Contract
from mlrig.components.contract.loss_model import LOSS_FILE, fit_loss_model
from mlrig.components.contract.metrics import calibration_error, holdout_noise, scores
from mlrig.components.contract.threads import set_threads
from mlrig.components.evaluate import core, depth
from mlrig.components.integrations.mlflow import modelfile, tracking
from mlrig.components.runtime import cache, cpus, events, tables
from mlrig.components.runtime import html_report as report
from mlrig.components.runtime.catalog import (
    EVAL_REPORT_FILE,
    HOLDOUT,
    HOLDOUT_SAMPLE_FILE,
    METRICS_FILE,
    RUN_FILE,
)

SAMPLE_ROWS = 5_000  # holdout rows kept with the run: what an export checks itself on


@cache.stage("evaluate", inputs=("model_dir", "holdout_dir"), outputs=("output_dir",))
def run(config_json: str, model_dir: str, holdout_dir: str, output_dir: str) -> dict:
    """Score the holdout once; put it beside training's CV (mean ± std)."""
    loaded = from_json(config_json)
    cfg = loaded.config
    info = tables.read_json(model_dir, RUN_FILE)
    contract = Contract.load(model_dir)
    holdout = tables.read_tables(holdout_dir)[HOLDOUT]
    metric = cfg.model.primary_metric or ""
    with events.stage("evaluate") as out:
        modelfile.import_reader()  # before MLflow: it costs less then
        mlflow = tracking.configure(loaded.place)
        model = modelfile.load_uri(mlflow, info["holdout_model_uri"])  # fitted without the holdout
        set_threads(model, cpus.work_threads())  # many rows a call here, not one
        y_score = scores(model, holdout[contract.inputs], contract.task, len(contract.classes))
        y_true = contract.targets(holdout)
        values, metrics = core.holdout_values(contract, y_true, y_score)
        metrics.update(info["cv"])
        seed = cfg.model.random_state
        noise = holdout_noise(y_true, y_score, contract.task, metric, contract.threshold, seed)
        metrics[f"holdout_{metric}_se"] = noise
        if contract.task == "binary":  # whether estimates before labels can be trusted
            metrics["holdout_ece"] = calibration_error(y_true == 1, y_score[:, 1])
        loss = fit_loss_model(holdout[contract.inputs], y_true, y_score, contract, seed)
        note = core.disagreement(info["cv"], values, metric, cfg.model.cv_holdout_margin, noise)
        sections = core.sections(info, contract, values, metrics, metric, note)
        slices = depth.slice_table(
            holdout, y_true, y_score, contract, cfg.model.slices, metric, cfg.model.min_slice_rows
        )
        sections.update({f"By {column}": rows for column, rows in slices.items()})
        sections["Permutation importance (holdout)"] = depth.permutation(
            model, holdout, y_true, contract, metric, seed
        )
        table, shares = depth.contributions(model, holdout, contract, seed)
        sections["Contributions (holdout): mean |contribution| and share"] = table

        if contract.task == "multiclass":
            sections["Per class"] = core.per_class(contract, y_true, y_score)
        plots = core.plots(contract, y_true, y_score, holdout)
        page = report.render(f"{cfg.project}: evaluation of {info['candidate']}", sections, plots)
        dest = _write(Path(output_dir), metrics, note, page, plots)
        tables.write_json(dest, depth.CONTRIBUTIONS_FILE, shares)  # each input's share
        _holdout_sample(dest, holdout[contract.inputs], seed)
        if loss is not None:  # a regression's error estimator, for the monitor before labels
            tables.write_json(dest, LOSS_FILE, loss)
        with mlflow.start_run(run_id=info["run_id"]):
            mlflow.log_metrics({k: v for k, v in metrics.items() if math.isfinite(v)})
            mlflow.log_artifacts(str(dest), "evaluation")
            if note:
                mlflow.set_tag("mlrig.cv_holdout_warning", note)
        out.update(_summary(info, values, metric, dest))
        if note:
            out["warning"] = note
    return metrics


def _holdout_sample(dest: Path, inputs: Any, seed: int) -> None:
    sample = inputs.sample(n=min(SAMPLE_ROWS, len(inputs)), random_state=seed)
    sample.reset_index(drop=True).to_parquet(dest / HOLDOUT_SAMPLE_FILE, index=False)


def _write(dest: Path, metrics: dict, note: str, page: str, plots: dict[str, str]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    tables.write_json(dest, METRICS_FILE, {**metrics, "note": note})
    (dest / EVAL_REPORT_FILE).write_text(page)
    for name, encoded in plots.items():  # also as images, which the MLflow UI previews
        (dest / f"{name}.png").write_bytes(base64.b64decode(encoded))
    return dest


def _summary(info: dict, values: dict, metric: str, dest: Path) -> dict[str, Any]:
    """What `mlrig run` shows of the stage."""
    cv, baseline = info["cv"], info.get("baseline") or {}
    return {
        f"holdout_{metric}": round(values.get(metric, float("nan")), 4),
        f"cv_{metric}": f"{cv[f'cv_{metric}_mean']:.4f} ± {cv[f'cv_{metric}_std']:.4f}",
        "holdout": info["holdout"],
        "cv": info["cv_scheme"],
        f"baseline_{metric}": round(baseline.get(metric, float("nan")), 4),
        "report": str(dest / EVAL_REPORT_FILE),
    }
