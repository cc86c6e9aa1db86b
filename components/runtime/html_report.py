"""Self-contained HTML reports (evaluation, EDA): metric tables and inline PNG plots."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve  # noqa: E402


def png(fig: Any) -> str:
    """A matplotlib figure as base64 PNG (the figure is closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def classification_plots(y_true: np.ndarray, y_score: np.ndarray) -> dict[str, str]:
    """ROC, precision-recall, calibration and confusion matrix as base64 PNGs."""
    plots = {}
    fig, ax = plt.subplots(figsize=(4.5, 4))
    fpr, tpr, _ = roc_curve(y_true, y_score)
    ax.plot(fpr, tpr)
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    plots["roc"] = png(fig)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    prec, rec, _ = precision_recall_curve(y_true, y_score)
    ax.plot(rec, prec)
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall")
    plots["pr"] = png(fig)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    frac, mean_pred = calibration_curve(y_true, y_score, n_bins=10, strategy="quantile")
    ax.plot(mean_pred, frac, marker="o")
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.set(xlabel="predicted probability", ylabel="observed rate", title="Calibration")
    plots["calibration"] = png(fig)
    fig, ax = plt.subplots(figsize=(4, 4))
    cm = confusion_matrix(y_true, (y_score >= 0.5).astype(int))
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center")
    ax.set(xlabel="predicted", ylabel="actual", title="Confusion matrix (t=0.5)")
    ax.set_xticks([0, 1])
    ax.set_yticks([0, 1])
    plots["confusion"] = png(fig)
    return plots


def regression_plots(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, str]:
    """Predicted vs actual and residual histogram as base64 PNGs."""
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.scatter(y_true, y_pred, s=3, alpha=0.3)
    ax.set(xlabel="actual", ylabel="predicted", title="Predicted vs actual")
    scatter = png(fig)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.hist(y_pred - y_true, bins=50)
    ax.set(xlabel="residual", title="Residuals")
    return {"scatter": scatter, "residuals": png(fig)}


def render(title: str, sections: dict[str, dict[str, Any]], plots: dict[str, str]) -> str:
    """A standalone HTML page: metric tables, then the plots."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}"
        "img{margin:6px;border:1px solid #eee}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for heading, values in sections.items():
        parts.append(f"<h2>{html.escape(heading)}</h2><table>")
        for key, value in values.items():
            shown = f"{value:.4f}" if isinstance(value, float) else html.escape(str(value))
            parts.append(f"<tr><th>{html.escape(str(key))}</th><td>{shown}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Plots</h2>")
    parts += [f"<img alt='{k}' src='data:image/png;base64,{v}'>" for k, v in plots.items()]
    parts.append("</body></html>")
    return "\n".join(parts)


def multiclass_plots(y_true: np.ndarray, proba: np.ndarray, classes: list[Any]) -> dict[str, str]:
    """Confusion matrix over all classes and per-class predicted-probability histograms."""
    k = len(classes)
    fig, ax = plt.subplots(figsize=(1.2 * k + 2.5, 1.2 * k + 2))
    cm = confusion_matrix(y_true, np.argmax(proba, axis=1), labels=list(range(k)))
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center")
    names = [str(c) for c in classes]
    ax.set_xticks(range(k), names, rotation=45)
    ax.set_yticks(range(k), names)
    ax.set(xlabel="predicted", ylabel="actual", title="Confusion matrix")
    plots = {"confusion": png(fig)}
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for i, name in enumerate(names):
        ax.hist(proba[y_true == i, i], bins=20, alpha=0.5, label=name)
    ax.set(xlabel="probability of the true class", title="Confidence in the true class")
    ax.legend(fontsize=7)
    plots["true_class_probability"] = png(fig)
    return plots


def residual_plots(y_true: np.ndarray, y_pred: np.ndarray, times: Any = None) -> dict[str, str]:
    """Residuals by predicted value and, when the rows have times, over time."""
    residual = y_true - y_pred
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.scatter(y_pred, residual, s=4, alpha=0.4)
    ax.axhline(0, color="grey", linestyle="--")
    ax.set(xlabel="predicted", ylabel="actual − predicted", title="Residuals by prediction")
    plots = {"residuals_by_prediction": png(fig)}
    if times is not None:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.scatter(times, residual, s=4, alpha=0.4)
        ax.axhline(0, color="grey", linestyle="--")
        ax.set(xlabel="event time", ylabel="actual − predicted", title="Residuals over time")
        plots["residuals_over_time"] = png(fig)
    return plots
