"""Training-stage overhead: the train stage (tuning with one fixed configuration, CV, threshold,
MLflow run with the model and its contract) against doing the same fits directly with
scikit-learn/LightGBM on the same data in the same process. Prints both wall times and the ratio
(goal: <= 1.05).

Usage: python benchmarks/training.py [--rows 300000]
Synthetic flights-shaped data (numeric and categorical inputs, a binary label with signal);
everything is written under a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

GOAL = 1.05


def synthetic(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(20)})
    for i, k in enumerate((15, 100, 300)):
        frame[f"c{i}"] = rng.choice([f"v{j}" for j in range(k)], size=rows)
    logit = frame.x0 + 0.5 * frame.x1 - 0.3 * frame.x2 + (frame.c0 == "v1") * 1.2 - 1.0
    frame["late"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame["ts"] = pd.date_range("2013-01-01", periods=rows, freq="min", tz="UTC")
    return frame


def project(folder: Path, frame: pd.DataFrame) -> Path:
    """A flat-table config with one fixed LightGBM configuration, no refit."""
    columns = {c: {"type": "float"} for c in frame if c.startswith("x")}
    columns.update({c: {"type": "str"} for c in frame if c.startswith("c")})
    columns.update({"late": {"type": "int"}, "ts": {"type": "datetime"}})
    config = {
        "project": "bench",
        "dataset": {"main": "t", "target": "late", "task": "classification",
                    "event_timestamp": "ts",
                    "tables": {"t": {"source": {"kind": "file", "path": "t.parquet"},
                                     "columns": columns}}},
        "model": {"candidates": {"lightgbm": {"learning_rate": [0.05], "num_leaves": [31]}},
                  "tuning": {"trials": 1, "prune": False}, "refit_on_all": False,
                  "tuning_sample_rows": 10**9, "threshold": {"rule": "max_f1"}},
    }  # fmt: skip
    path = folder / "mlrig.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=300_000)  # flights-sized
    args = parser.parse_args()
    from mlrig.components.config.loader import load
    from mlrig.components.contract.contract import draft
    from mlrig.components.contract.metrics import holdout_metrics, scores
    from mlrig.components.runtime import tables
    from mlrig.components.runtime.catalog import EVENT_TS, TRAINING_SET
    from mlrig.components.train.core import build_pipeline
    from mlrig.components.train.io import run as train_run
    from mlrig.components.train.splits import cv_splitter, time_split

    frame = synthetic(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        loaded = load(project(folder, frame))
        cfg = loaded.config
        contract = draft(cfg, None)
        contract.inputs = [c for c in frame if c[0] in "xc"]
        contract.categorical = [c for c in frame if c.startswith("c")]
        training = frame.assign(**{EVENT_TS: frame.ts})
        meta = {"dataset_hash": "bench", "feature_set": "", "sampled": False}
        tables.write_tables(folder / "ts", {TRAINING_SET: training}, meta)
        contract.save(folder / "ts")
        # warm-up: imports and the MLflow store, outside both timings
        train_run(loaded.to_json(), str(folder / "ts"), str(folder / "m0"), str(folder / "h0"))

        started = time.perf_counter()
        train_run(loaded.to_json(), str(folder / "ts"), str(folder / "m"), str(folder / "h"))
        stage = time.perf_counter() - started

        # the same fits, directly: k CV folds, the final fit, the LightGBM-default baseline
        started = time.perf_counter()
        split = time_split(training, EVENT_TS, cfg.model.holdout_fraction)
        x, y = split.train[contract.inputs], split.train.late.to_numpy()
        numeric = [c for c in contract.inputs if c not in contract.categorical]
        params = {"learning_rate": 0.05, "num_leaves": 31}
        splitter = cv_splitter("binary", cfg.model.cv_folds, 42, split.train[EVENT_TS])
        for train_idx, test_idx in splitter.split(x, y):
            pipe = build_pipeline("lightgbm", "binary", numeric, contract.categorical, 42, params)
            pipe.fit(x.iloc[train_idx], y[train_idx])
            holdout_metrics(y[test_idx], scores(pipe, x.iloc[test_idx], "binary", 2), "binary")
        build_pipeline("lightgbm", "binary", numeric, contract.categorical, 42, params).fit(x, y)
        base = build_pipeline("lightgbm", "binary", numeric, contract.categorical, 42).fit(x, y)
        scores(base, split.holdout[contract.inputs], "binary", 2)
        direct = time.perf_counter() - started

    ratio = stage / direct
    print(f"rows {args.rows:,}: train stage {stage:.2f} s · same fits directly {direct:.2f} s")
    print(f"ratio {ratio:.3f} (goal <= {GOAL}) {'OK' if ratio <= GOAL else 'ABOVE GOAL'}")


if __name__ == "__main__":
    main()
