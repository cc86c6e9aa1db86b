"""The replay's timeline as HTML with plots (drift per feature and month, the metric per month
against the serving version's evaluation, the version in service) plus JSON, logged to MLflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.config.place import Place
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.runtime import html_report

TOP_FEATURES = 15


def _drift_heatmap(steps: list[dict]) -> str:
    import matplotlib.pyplot as plt

    psi = pd.DataFrame({s["month"]: s["psi"] for s in steps}).astype(float)
    psi.loc["(prediction)"] = [s["prediction_psi"] for s in steps]
    top = psi.max(axis=1).sort_values(ascending=False).index[:TOP_FEATURES]
    shown = psi.loc[top].clip(upper=1.0)
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(steps), 0.9 + 0.32 * len(shown)))
    image = ax.imshow(shown.to_numpy(), aspect="auto", cmap="Reds", vmin=0, vmax=1)
    ax.set_xticks(range(len(shown.columns)), shown.columns, rotation=45, fontsize=8)
    ax.set_yticks(range(len(shown.index)), shown.index, fontsize=8)
    for (i, j), v in np.ndenumerate(shown.to_numpy()):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6)
    fig.colorbar(image, ax=ax, label="PSI (clipped at 1)")
    ax.set_title(f"Drift per month: PSI of the {len(shown)} most drifted inputs")
    return html_report.png(fig)


def _metric_plot(steps: list[dict], evaluation: dict, metric: str) -> str:
    import matplotlib.pyplot as plt

    months = [s["month"] for s in steps]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    values = [s["metrics"].get(metric, np.nan) for s in steps]
    ax.plot(months, values, marker="o", label=f"{metric}, served month")
    guessed = [s["metrics"].get(f"estimated_{metric}", np.nan) for s in steps]
    if np.isfinite(guessed).any():
        ax.plot(
            months, guessed, marker="x", linestyle=":", label=f"{metric} estimated before labels"
        )
    at_eval = [evaluation.get(s["version"], {}).get(metric, np.nan) for s in steps]
    ax.step(
        months,
        at_eval,
        where="mid",
        linestyle="--",
        color="grey",
        label=f"{metric} of the serving version at evaluation",
    )
    for i, s in enumerate(steps):
        if s["retrain"]:
            ax.axvline(i, color="orange", alpha=0.4)
    ax.set(title=f"{metric} per month (orange: retrain triggered)", ylabel=metric)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=7)
    return html_report.png(fig)


def _version_plot(steps: list[dict]) -> str:
    import matplotlib.pyplot as plt

    months = [s["month"] for s in steps]
    fig, ax = plt.subplots(figsize=(8, 2.4))
    ax.step(months, [s["version"] for s in steps], where="mid", marker="o")
    ax.set(title="Model version in service", ylabel="version")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(axis="x", rotation=45)
    return html_report.png(fig)


def metric_name(steps: list[dict], preferred: str) -> str:
    """The config's primary metric when the log can give it, else what it can give."""
    seen = {k for s in steps for k in s["metrics"]}
    for name in (preferred, "roc_auc", "accuracy", "rmse"):
        if name in seen:
            return name
    return preferred


def write_report(place: Place, metric: str, timeline: dict[str, Any], dest: Path) -> Path:
    """timeline.json and timeline.html in dest, both logged to MLflow as a `replay` run.
    metric: the model's primary metric."""
    project = timeline["project"]
    steps = timeline["steps"]
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "timeline.json").write_text(json.dumps(timeline, indent=2, default=str))
    metric = metric_name(steps, metric)
    plots = {}
    if steps:
        plots = {
            "drift": _drift_heatmap(steps),
            "metric": _metric_plot(steps, timeline["evaluation"], metric),
            "version": _version_plot(steps),
        }
    decisions = {}
    for s in steps:
        value = s["metrics"].get(metric)
        shown = f"{metric} {value:.4f}" if value is not None else "no labels"
        guess = s["metrics"].get(f"estimated_{metric}")
        shown += f" (estimated before labels {guess:.4f})" if guess is not None else ""
        text = f"v{s['version']} · {s['rows']} rows · {shown} · drifted: "
        text += (", ".join(s["drifted"]) or "none") + " · "
        text += "reasons moved: " + (", ".join(s.get("reasons_moved") or []) or "none") + " · "
        text += ("retrain: " + "; ".join(s["reasons"])) if s["retrain"] else "keep"
        if s["training"]:
            t = s["training"]
            text += (
                f" → gate: {t.get('reason')} (challenger v{t.get('version')} "
                f"{t.get('challenger')}, champion {t.get('champion')})"
            )
        decisions[s["month"]] = text
    page = html_report.render(
        f"{project}: replay {timeline['start'][:10]} to {timeline['end'][:10]}",
        {
            "Replay": {
                "months": len(steps),
                "retrains triggered": sum(s["retrain"] for s in steps),
                "promotions": sum(bool(s["training"].get("promoted")) for s in steps),
                "versions served": ", ".join(
                    f"v{v}" for v in dict.fromkeys(s["version"] for s in steps)
                ),
            },
            "Month by month (the decision and, when retrained, the gate's numbers)": decisions,
        },
        plots,
    )
    (dest / "timeline.html").write_text(page)
    mlflow = tracking.configure(place)
    with mlflow.start_run(run_name=f"{project}-replay"):
        mlflow.set_tags({"mlrig.stage": "monitor-replay"})
        mlflow.log_artifact(str(dest / "timeline.json"), "replay")
        mlflow.log_artifact(str(dest / "timeline.html"), "replay")
    return dest / "timeline.html"
