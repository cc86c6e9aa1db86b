"""Evaluate's logic: holdout metrics beside training's CV, a note when they disagree beyond
chance, and the report's sections and plots. No files, no MLflow (io.py)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from sklearn.metrics import brier_score_loss, classification_report

from mlrig.components.config.schema import LOWER_IS_BETTER
from mlrig.components.contract.contract import Contract
from mlrig.components.contract.metrics import holdout_metrics
from mlrig.components.runtime import html_report as report
from mlrig.components.runtime.catalog import EVENT_TS

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


def holdout_values(contract: Contract, y_true: Any, y_score: Any) -> tuple[dict, dict]:
    """The holdout's metrics at the contract's threshold, and every metric logged (binary: also
    at 0.5, and the Brier score)."""
    values = holdout_metrics(y_true, y_score, contract.task, contract.threshold)
    metrics = {f"holdout_{k}": v for k, v in values.items()}
    if contract.task == "binary":
        at_half = holdout_metrics(y_true, y_score, contract.task, 0.5)
        metrics.update({f"holdout_{k}_at_0.5": at_half[k] for k in AT_THRESHOLD})
        metrics["holdout_brier"] = float(brier_score_loss(y_true, y_score[:, 1]))
    return values, metrics


def sections(
    info: dict, contract: Contract, values: dict, metrics: dict, metric: str, note: str
) -> dict[str, dict[str, Any]]:
    """The report's summary: the model, holdout beside CV, the threshold, the baseline."""
    cv = info["cv"]
    out: dict[str, dict[str, Any]] = {
        "Model": {
            "candidate": info["candidate"],
            **info["params"],
            "task": contract.task,
            "run": info["run_id"],
        },
        f"Holdout ({info['holdout']}) beside {info['cv_scheme']} CV": {
            k: f"{v:.4f}  ·  CV {cv.get(f'cv_{k}_mean', float('nan')):.4f} ± "
            f"{cv.get(f'cv_{k}_std', float('nan')):.4f}"
            for k, v in values.items()
            if f"cv_{k}_mean" in cv
        },
    }
    if contract.task == "binary":
        out["Decision threshold"] = {
            "threshold": contract.threshold,
            "chosen by": info.get("threshold_rule", ""),
            **{f"{k} at 0.5": metrics[f"holdout_{k}_at_0.5"] for k in AT_THRESHOLD},
            "Brier score": metrics["holdout_brier"],
        }
    baseline = info.get("baseline") or {}
    if baseline:
        out["Baseline on the same holdout"] = {
            "baseline": baseline["model"],
            f"baseline {metric}": baseline.get(metric, float("nan")),
            f"chosen {metric}": values.get(metric, float("nan")),
        }
    out["Released model"] = {
        "refit on train + holdout": info.get("refit_on_all", False),
        "note": "holdout metrics are those of the model fitted without the holdout",
    }
    if note:
        out["Warning"] = {"CV vs holdout": note}
    return out


def per_class(contract: Contract, y_true: Any, y_score: Any) -> dict[str, str]:
    """Multiclass: precision, recall, F1 and support of each class."""
    found = classification_report(
        y_true,
        y_score.argmax(axis=1),
        labels=list(range(len(contract.classes))),
        target_names=[str(c) for c in contract.classes],
        output_dict=True,
        zero_division=0,
    )
    return {
        name: f"precision {r['precision']:.3f} · recall {r['recall']:.3f} · "
        f"F1 {r['f1-score']:.3f} · n {int(r['support'])}"
        for name, r in found.items()
        if isinstance(r, dict) and name in map(str, contract.classes)
    }


def plots(contract: Contract, y_true: Any, y_score: Any, holdout: pd.DataFrame) -> dict[str, str]:
    """The report's plots, base64 PNGs by name."""
    if contract.task == "binary":
        return report.classification_plots(y_true, y_score[:, 1])
    if contract.task == "multiclass":
        return report.multiclass_plots(y_true, y_score, contract.classes)
    drawn = report.regression_plots(y_true, y_score)
    return {**drawn, **report.residual_plots(y_true, y_score, holdout.get(EVENT_TS))}
