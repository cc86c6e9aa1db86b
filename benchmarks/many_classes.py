"""Tuning a many-class table: gradient boosting grows a tree per class each round, and on fewer
than 10,000 rows scikit-learn's own rule never stops it early. mlrig's fit (train/core.fit)
stops it once validation loss stalls where every class can be held out. Runs the same tuning
(gradient boosting only, 10 trials, 3-fold CV) both ways on the same synthetic 30-class table in
the same process and prints the wall times, the ratio (goal < 1: never slower; how much faster
depends on how long the classes keep teaching it) and the CV macro ROC-AUC of each (goal: within
0.01 of the baseline's or better).

Usage: python benchmarks/many_classes.py [--rows 3000] [--classes 30]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

GOAL_RATIO, GOAL_SCORE = 1.0, 0.01


def synthetic(rows: int, classes: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric and categorical inputs; the class follows two inputs and noise."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(10)})
    frame["c0"] = rng.choice([f"v{j}" for j in range(8)], size=rows)
    signal = frame.x0 * 4 + frame.x1 * 2 + (frame.c0 == "v1") * 3 + rng.normal(size=rows)
    y = pd.qcut(signal, classes, labels=False).to_numpy()
    return frame, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--classes", type=int, default=30)
    args = parser.parse_args()
    from mlrig.components.config.schema import Model
    from mlrig.components.train import search

    frame, y = synthetic(args.rows, args.classes)
    inputs = list(frame.columns)
    spec = Model(candidates={"hist_gradient_boosting": {}}, tuning={"trials": 10, "prune": False},
                 cv_folds=3, primary_metric="roc_auc")  # fmt: skip

    def run() -> tuple[float, float]:
        started = time.perf_counter()
        result = search.tune(frame, y, inputs, ["c0"], "multiclass", args.classes, spec, None)
        return time.perf_counter() - started, result.cv["cv_roc_auc_mean"]

    mlrig_s, mlrig_auc = run()
    rule = search.fit
    search.fit = lambda pipe, x, y: pipe.fit(x, y)  # the baseline: scikit-learn's own rule
    try:
        base_s, base_auc = run()
    finally:
        search.fit = rule
    ratio = mlrig_s / base_s
    print(f"{args.rows:,} rows, {args.classes} classes, 10 trials x 3 folds")
    print(f"mlrig's fit {mlrig_s:.1f} s (CV ROC-AUC {mlrig_auc:.4f}) · scikit-learn's rule "
          f"{base_s:.1f} s (CV ROC-AUC {base_auc:.4f})")  # fmt: skip
    verdict = "OK" if ratio < GOAL_RATIO else "ABOVE GOAL"
    print(f"time ratio {ratio:.3f} (goal < {GOAL_RATIO}) {verdict}")
    gap = base_auc - mlrig_auc
    print(f"ROC-AUC below the baseline's by {gap:+.4f} (goal <= {GOAL_SCORE}) "
          f"{'OK' if gap <= GOAL_SCORE else 'ABOVE GOAL'}")  # fmt: skip


if __name__ == "__main__":
    main()
