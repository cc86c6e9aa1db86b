"""EDA: a profile of the training set (missing values, distributions, target relationships)."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mlrig.components.runtime.html_report import png  # noqa: E402

MAX_HISTOGRAMS = 16
MAX_CATEGORICAL = 6


def target_numbers(frame: pd.DataFrame, target: str, task: str) -> pd.Series | None:
    """The target as numbers where that means something: values (regression), 0/1 of the
    positive class (binary); None for multiclass."""
    if task == "regression":
        return pd.to_numeric(frame[target], errors="coerce")
    labels = frame[target].map(str)
    classes = sorted(labels.unique())
    if len(classes) != 2:
        return None
    return (labels == classes[1]).astype(float)


def summary(frame: pd.DataFrame, target: str, task: str = "regression") -> dict[str, Any]:
    """Headline numbers: rows, columns, the target's distribution, columns with missing values."""
    missing = frame.isna().mean()
    if task == "regression":
        described = pd.to_numeric(frame[target], errors="coerce").describe()
        shown = f"mean {described['mean']:.4g} · std {described['std']:.4g}"
    else:
        counts = frame[target].map(str).value_counts()
        shown = " · ".join(f"{k}: {v} ({v / len(frame):.1%})" for k, v in counts.head(10).items())
    return {
        "rows": len(frame),
        "columns": frame.shape[1],
        f"{target} ({task})": shown,
        "columns with missing values": int((missing > 0).sum()),
        "most missing": f"{missing.idxmax()} ({missing.max():.1%})" if len(missing) else "-",
    }


def numeric_table(frame: pd.DataFrame, inputs: list[str]) -> dict[str, str]:
    """min / median / max / missing share of each numeric input."""
    out = {}
    for col in inputs:
        if frame[col].dtype == object:
            continue
        s = frame[col]
        out[col] = (
            f"min {s.min():.4g} · median {s.median():.4g} · max {s.max():.4g} · "
            f"missing {s.isna().mean():.1%}"
        )
    return out


def word_rates(texts: pd.Series, y: pd.Series, top: int = 12) -> pd.DataFrame:
    """The target's mean among the rows whose text holds each of its most common words (mean,
    rows), most rows first; a word counts once a row."""
    words = texts.fillna("").astype(str).str.lower().str.findall(r"\b\w\w+\b").map(set)
    exploded = pd.DataFrame({"word": words, "y": y}).explode("word").dropna(subset=["word"])
    grouped = exploded.groupby("word")["y"].agg(["mean", "size"])
    return grouped.sort_values(["size", "mean"], ascending=False).head(top)


def plots(
    frame: pd.DataFrame, inputs: list[str], target: str, task: str, text: list[str] | None = None
) -> dict[str, str]:
    """Missing-value bars, histograms, top categories (of free text: its common words), and each
    numeric input's correlation with the target; all as base64 PNGs."""
    out: dict[str, str] = {}
    missing = frame[inputs].isna().mean().sort_values()
    fig, ax = plt.subplots(figsize=(7, max(3, len(inputs) * 0.22)))
    ax.barh(missing.index, missing.values)
    ax.set(title="Missing share per input", xlabel="share of rows")
    out["missing"] = png(fig)

    numeric = [c for c in inputs if frame[c].dtype != object][:MAX_HISTOGRAMS]
    if numeric:
        cols = 4
        rows = int(np.ceil(len(numeric) / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(14, 2.6 * rows), squeeze=False)
        for ax, col in zip(axes.flat, numeric, strict=False):
            values = frame[col].dropna()
            ax.hist(values.clip(values.quantile(0.01), values.quantile(0.99)), bins=40)
            ax.set_title(col, fontsize=8)
        for ax in list(axes.flat)[len(numeric) :]:
            ax.axis("off")
        fig.tight_layout()
        out["histograms"] = png(fig)

        y = target_numbers(frame, target, task)
        if y is not None:
            corr = frame[numeric].corrwith(y).dropna().sort_values()
            fig, ax = plt.subplots(figsize=(7, max(3, len(corr) * 0.22)))
            ax.barh(corr.index, corr.values)
            ax.set(title=f"Correlation with {target}", xlabel="Pearson r")
            out["target_correlation"] = png(fig)

    y = target_numbers(frame, target, task)
    if y is None:  # multiclass: the class balance instead of per-category rates
        counts = frame[target].map(str).value_counts()
        fig, ax = plt.subplots(figsize=(7, 3.2))
        ax.bar(counts.index, counts.values)
        ax.set(title=f"{target}: rows per class")
        out["class_balance"] = png(fig)
        return out
    for col in [c for c in inputs if frame[c].dtype == object][:MAX_CATEGORICAL]:
        if col in (text or []):
            top, by = word_rates(frame[col], y), f"word in {col}"
        else:
            grouped = y.groupby(frame[col].fillna("(missing)")).agg(["mean", "size"])
            top, by = grouped.sort_values("size", ascending=False).head(12), col
        fig, ax = plt.subplots(figsize=(7, 3.2))
        ax.bar([str(i) for i in top.index], top["mean"])
        ax.set(title=f"{target} {'mean' if task == 'regression' else 'rate'} by {by}")
        ax.tick_params(axis="x", rotation=60, labelsize=7)
        out[f"target_by_{col}"] = png(fig)
    return out
