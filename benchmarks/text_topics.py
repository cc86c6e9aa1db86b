"""Tuning a table with free text: every trial fits its pipeline on the same CV folds, and a text
column's topics (TF-IDF and SVD, no label involved) come out the same for a fold each time.
TextTopics keeps its recent fits by their texts (train/text.py), so a fold's topics are fitted
once, not once per trial. Runs the same tuning (logistic regression and LightGBM, 10 trials,
3-fold CV) with and without those kept fits on the same synthetic ticket table in the same
process and prints the wall times, the ratio (goal < 1) and the CV macro ROC-AUC of each (goal:
equal, the fits being the same).

Usage: python benchmarks/text_topics.py [--rows 30000]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

GOAL_RATIO = 1.0


def synthetic(rows: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A ticket's text (a few thousand words, Zipf-like) and two other inputs; the priority
    follows two words and a flag."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(5000)] + ["crash", "refund"])
    weights = 1 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    words = rng.choice(vocab, size=(rows, 12), p=weights)
    text = [" ".join(row[: rng.integers(4, 12)]) for row in words]
    vip = rng.choice(["Y", "N"], rows, p=[0.3, 0.7])
    has = np.array([("crash" in t) * 2 + ("refund" in t) for t in text])
    level = has + (vip == "Y") + rng.normal(0, 0.7, rows)
    y = np.digitize(level, [0.5, 1.5])
    return pd.DataFrame({"amount": rng.gamma(2, 10, rows), "vip": vip, "text": text}), y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=30_000)
    args = parser.parse_args()
    from mlrig.components.config.schema import Model
    from mlrig.components.train import search, text

    frame, y = synthetic(args.rows)
    inputs = list(frame.columns)
    spec = Model(candidates={"logistic_regression": {}, "lightgbm": {}},
                 tuning={"trials": 10, "prune": False}, cv_folds=3,
                 primary_metric="roc_auc")  # fmt: skip

    def run() -> tuple[float, float]:
        text._FITTED.clear()
        started = time.perf_counter()
        result = search.tune(frame, y, inputs, ["vip", "text"], "multiclass", 3, spec, None,
                             text=["text"])  # fmt: skip
        return time.perf_counter() - started, result.cv["cv_roc_auc_mean"]

    kept_s, kept_auc = run()
    keep = text._KEEP
    text._KEEP = 0  # the baseline: every trial fits its topics again
    try:
        base_s, base_auc = run()
    finally:
        text._KEEP = keep
    print(f"{args.rows:,} rows, 10 trials x 3 folds, one text column")
    print(f"topics fitted once per fold: {kept_s:.1f} s, CV macro ROC-AUC {kept_auc:.4f}")
    print(f"topics fitted every trial:   {base_s:.1f} s, CV macro ROC-AUC {base_auc:.4f}")
    print(f"ratio {kept_s / base_s:.2f} (goal < {GOAL_RATIO}); ROC-AUC equal: "
          f"{abs(kept_auc - base_auc) < 1e-9}")  # fmt: skip


if __name__ == "__main__":
    main()
