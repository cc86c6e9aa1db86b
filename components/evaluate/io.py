"""Evaluate stage I/O: holdout metrics beside the CV that training ran (nothing is refitted),
an HTML report with plots, all logged to the training run."""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

from sklearn.metrics import brier_score_loss, classification_report

from mlrig.components.config.loader import from_json
from mlrig.components.config.schema import LOWER_IS_BETTER
from mlrig.components.contract.contract import Contract
from mlrig.components.contract.metrics import holdout_metrics, holdout_noise, scores
from mlrig.components.evaluate import depth
from mlrig.components.integrations.mlflow import modelfile, tracking
from mlrig.components.runtime import cache, events, tables
from mlrig.components.runtime import html_report as report
from mlrig.components.runtime.catalog import (
    EVAL_REPORT_FILE,
    EVENT_TS,
    HOLDOUT,
    METRICS_FILE,
    RUN_FILE,
)

AT_THRESHOLD = ("accuracy", "precision", "recall", "f1")
SCALED = {"rmse", "mae"}  # in the target's units: the margin is a fraction of the CV value


def disagreement(
    cv: dict[str, float],
    holdout: dict[str, float],
    metric: str,
    margin: float,
    noise: float = 0.0,
) -> str:
    """A note when CV and holdout disagree by more than the margin and by more than chance (else
    empty). Errors in the target's units (rmse, mae) compare as a fraction of the CV value: a gap
    of 0.1 is noise on sales of 40 and everything on a target of 0.5. noise: the holdout metric's
    standard error; a gap within two of it is what another holdout of that size could give."""
    cv_mean, value = cv.get(f"cv_{metric}_mean"), holdout.get(metric)
    if cv_mean is None or value is None or not (math.isfinite(cv_mean) and math.isfinite(value)):
        return ""
    gap = value - cv_mean
    if math.isfinite(noise) and abs(gap) <= 2 * noise:
        return ""
    if metric in SCALED:
        if abs(gap) <= margin * abs(cv_mean):
            return ""
        size = f"gap {gap:+.4f}, {abs(gap) / abs(cv_mean):.1%} of CV > margin {margin:.0%}"
    elif abs(gap) <= margin:
        return ""
    else:
        size = f"gap {gap:+.4f}, more than the margin {margin}"
    chance = f", and more than twice the holdout's standard error {noise:.4f}" if noise else ""
    better = gap < 0 if metric in LOWER_IS_BETTER else gap > 0
    advice = (
        "the holdout did better: each CV fold fits on fewer rows than the final model, which "
        "costs most on small data with many inputs, or this holdout is easier than most; check "
        "that no row sits in both parts"
        if better
        else "trust the holdout, check for drift or leakage"
    )
    return (
        f"CV and holdout disagree on {metric}: CV {cv_mean:.4f}, holdout {value:.4f} "
        f"({size}{chance}); {advice}"
    )


def _plots(contract: Contract, y_true: Any, y_score: Any) -> dict[str, str]:
    if contract.task == "binary":
        return report.classification_plots(y_true, y_score[:, 1])
    if contract.task == "multiclass":
        return report.multiclass_plots(y_true, y_score, contract.classes)
    return report.regression_plots(y_true, y_score)


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
        mlflow = tracking.configure(loaded)
        model = modelfile.load_uri(mlflow, info["holdout_model_uri"])  # fitted without the holdout
        y_score = scores(model, holdout[contract.inputs], contract.task, len(contract.classes))
        y_true = contract.targets(holdout)
        values = holdout_metrics(y_true, y_score, contract.task, contract.threshold)
        metrics = {f"holdout_{k}": v for k, v in values.items()}
        if contract.task == "binary":
            at_half = holdout_metrics(y_true, y_score, contract.task, 0.5)
            metrics.update({f"holdout_{k}_at_0.5": at_half[k] for k in AT_THRESHOLD})
            metrics["holdout_brier"] = float(brier_score_loss(y_true, y_score[:, 1]))
        slices = depth.slice_table(holdout, y_true, y_score, contract, cfg.model.slices,
                                   metric, cfg.model.min_slice_rows)  # fmt: skip
        importance = depth.permutation(model, holdout, y_true, contract, metric,
                                       cfg.model.random_state)  # fmt: skip
        metrics.update(info["cv"])
        noise = holdout_noise(y_true, y_score, contract.task, metric, contract.threshold,
                              cfg.model.random_state)  # fmt: skip
        metrics[f"holdout_{metric}_se"] = noise
        note = disagreement(info["cv"], values, metric, cfg.model.cv_holdout_margin, noise)
        baseline = info.get("baseline") or {}
        sections: dict[str, dict[str, Any]] = {
            "Model": {
                "candidate": info["candidate"],
                **info["params"],
                "task": contract.task,
                "run": info["run_id"],
            },  # fmt: skip
            f"Holdout ({info['holdout']}) beside {info['cv_scheme']} CV": {
                k: f"{v:.4f}  ·  CV {info['cv'].get(f'cv_{k}_mean', float('nan')):.4f} ± "
                f"{info['cv'].get(f'cv_{k}_std', float('nan')):.4f}"
                for k, v in values.items()
                if f"cv_{k}_mean" in info["cv"]
            },
        }
        if contract.task == "binary":
            sections["Decision threshold"] = {
                "threshold": contract.threshold, "chosen by": info.get("threshold_rule", ""),
                **{f"{k} at 0.5": metrics[f"holdout_{k}_at_0.5"] for k in AT_THRESHOLD},
                "Brier score": metrics["holdout_brier"],
            }  # fmt: skip
        if baseline:
            sections["Baseline on the same holdout"] = {
                "baseline": baseline["model"],
                f"baseline {metric}": baseline.get(metric, float("nan")),
                f"chosen {metric}": values.get(metric, float("nan")),
            }
        sections["Released model"] = {
            "refit on train + holdout": info.get("refit_on_all", False),
            "note": "holdout metrics are those of the model fitted without the holdout",
        }
        for column, rows in slices.items():
            sections[f"By {column}"] = rows
        sections["Permutation importance (holdout)"] = importance
        if note:
            sections["Warning"] = {"CV vs holdout": note}
        if contract.task == "multiclass":
            per_class = classification_report(
                y_true, y_score.argmax(axis=1), labels=list(range(len(contract.classes))),
                target_names=[str(c) for c in contract.classes], output_dict=True,
                zero_division=0,
            )  # fmt: skip
            sections["Per class"] = {
                name: f"precision {r['precision']:.3f} · recall {r['recall']:.3f} · "
                f"F1 {r['f1-score']:.3f} · n {int(r['support'])}"
                for name, r in per_class.items()
                if isinstance(r, dict) and name in map(str, contract.classes)
            }
        plots = _plots(contract, y_true, y_score)
        if contract.task == "regression":
            plots.update(report.residual_plots(y_true, y_score, holdout.get(EVENT_TS)))
        page = report.render(f"{cfg.project}: evaluation of {info['candidate']}", sections, plots)
        dest = Path(output_dir)
        dest.mkdir(parents=True, exist_ok=True)
        tables.write_json(dest, METRICS_FILE, {**metrics, "note": note})
        (dest / EVAL_REPORT_FILE).write_text(page)
        for name, encoded in plots.items():  # also as images, which the MLflow UI previews
            (dest / f"{name}.png").write_bytes(base64.b64decode(encoded))
        with mlflow.start_run(run_id=info["run_id"]):
            mlflow.log_metrics({k: v for k, v in metrics.items() if math.isfinite(v)})
            mlflow.log_artifacts(str(dest), "evaluation")
            if note:
                mlflow.set_tag("mlrig.cv_holdout_warning", note)
        out.update(
            {
                f"holdout_{metric}": round(values.get(metric, float("nan")), 4),
                f"cv_{metric}": f"{info['cv'][f'cv_{metric}_mean']:.4f} ± "
                f"{info['cv'][f'cv_{metric}_std']:.4f}",
                "holdout": info["holdout"],
                "cv": info["cv_scheme"],
                f"baseline_{metric}": round(baseline.get(metric, float("nan")), 4),
                "report": str(dest / EVAL_REPORT_FILE),
            }
        )
        if note:
            out["warning"] = note
    return metrics
