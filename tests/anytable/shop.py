"""A customer table with a transactions table (int keys, a composite key, nulls, string labels,
naive New York times): the shape of a shop, generated with a real signal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REGIONS = ["north", "south"]
PLANS = ["basic", "plus"]


def write_shop(
    folder: Path,
    seed: int = 0,
    customers: int = 300,
    drift_from: str | None = None,
    **dataset: object,
) -> Path:
    """customers.csv, transactions.csv, plans.csv and an mlrig.yaml; returns the config path.
    From `drift_from` on, customers are 30 years older and churn by age: a drift that a model
    trained before it cannot follow."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, customers + 1)
    start = pd.Timestamp("2024-01-01")
    rows = []
    activity = rng.gamma(2.0, 2.0, size=customers)
    for cid, rate in zip(ids, activity, strict=True):
        n = rng.poisson(rate * 3)
        times = start + pd.to_timedelta(np.sort(rng.uniform(0, 300, n)), unit="D")
        for t in times:
            rows.append((cid, t.strftime("%Y-%m-%dT%H:%M:%S"), round(rng.gamma(2, 20), 2)))
    tx = pd.DataFrame(rows, columns=["customer_id", "ts", "amount"])
    as_of = start + pd.to_timedelta(rng.uniform(200, 330, customers), unit="D")
    when = pd.to_datetime(tx.ts)  # parsed once, not once per customer
    by_customer = {c: when[tx.customer_id == c].to_numpy() for c in ids}
    recent = [
        int(((by_customer[c] < t) & (by_customer[c] >= t - pd.Timedelta(days=30))).sum())
        for c, t in zip(ids, as_of.to_numpy(), strict=True)
    ]
    churn = rng.random(customers) < 1 / (1 + np.exp(np.array(recent) - 1.0))
    region, plan = rng.choice(REGIONS, customers), rng.choice(PLANS, customers)
    zips = [f"0{z}" for z in rng.integers(1000, 1010, customers)]  # codes, not numbers
    age = np.where(rng.random(customers) < 0.2, np.nan, rng.integers(18, 80, customers))
    if drift_from:
        shifted = np.asarray(as_of >= pd.Timestamp(drift_from))
        age = np.where(shifted, age + 30, age)
        by_age = rng.random(customers) < 1 / (1 + np.exp(-(np.nan_to_num(age, nan=60) - 80) / 6))
        churn = np.where(shifted, by_age, churn)
    customers_df = pd.DataFrame(
        {
            "customer_id": ids,
            "as_of": as_of.strftime("%Y-%m-%dT%H:%M:%S"),
            "region": region,
            "plan": plan,
            "zip": zips,
            "age": age,
            "churned": np.where(churn, "yes", "no"),
        }
    )
    plans = pd.DataFrame(
        [(r, p, 10.0 + 5 * i + 2 * j) for i, r in enumerate(REGIONS) for j, p in enumerate(PLANS)],
        columns=["region", "plan", "price"],
    )
    customers_df.to_csv(folder / "customers.csv", index=False)
    tx.to_csv(folder / "transactions.csv", index=False)
    plans.to_csv(folder / "plans.csv", index=False)
    config = {
        "project": "shop",
        "dataset": {
            "main": "customers",
            "event_timestamp": "as_of",
            "timezone": "America/New_York",
            "target": "churned",
            "task": "classification",
            "positive_label": "yes",
            "request_features": ["zip", "age"],
            "date_parts": {"column": "as_of", "parts": ["hour", "dayofweek"]},
            "tables": {
                "customers": {
                    "source": {"kind": "file", "path": "customers.csv"},
                    "columns": {
                        "customer_id": {"type": "int", "nullable": False},
                        "as_of": {"type": "datetime", "nullable": False},
                        "region": {"type": "str", "nullable": False},
                        "plan": {"type": "str", "nullable": False},
                        "zip": {"type": "str"},
                        "age": {"type": "float"},
                        "churned": {"type": "str", "nullable": False},
                    },
                },
                "transactions": {
                    "source": {"kind": "file", "path": "transactions.csv"},
                    "columns": {
                        "customer_id": {"type": "int", "nullable": False},
                        "ts": {"type": "datetime", "nullable": False},
                        "amount": {"type": "float", "min": 0},
                    },
                },
                "plans": {
                    "source": {"kind": "file", "path": "plans.csv"},
                    "columns": {
                        "region": {"type": "str", "nullable": False},
                        "plan": {"type": "str", "nullable": False},
                        "price": {"type": "float"},
                    },
                },
            },
            **dataset,
        },
        "features": {
            "entities": [
                {"name": "customer", "join_key": "customer_id"},
                {"name": "region", "join_key": "region"},
                {"name": "plan", "join_key": "plan"},
            ],
            "views": [
                {
                    "name": "spend",
                    "kind": "aggregate",
                    "table": "transactions",
                    "entity": "customer",
                    "timestamp": "ts",
                    "recency": True,
                    "aggregations": [
                        {
                            "column": "amount",
                            "functions": ["count", "sum", "max"],
                            "window_days": [30],
                        },
                    ],
                },
                {
                    "name": "plan_price",
                    "kind": "static",
                    "table": "plans",
                    "entity": ["region", "plan"],
                    "features": ["price"],
                },
            ],  # fmt: skip
        },
        "model": {
            "candidates": {"logistic_regression": {"C": [1.0]}},
            "tuning": {"trials": 1},
            "cv_folds": 3,
        },
    }
    path = folder / "mlrig.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def score_as_a_task(config: Path, batch: Path, out: Path, env: dict) -> subprocess.CompletedProcess:
    """The stage in a new process, as the pipeline's task calls it (fork=True)."""
    code = "import sys; from mlrig.components.config.loader import load; "
    code += "from mlrig.components.score.io import run; "
    code += "run(load(sys.argv[1]).to_json(), sys.argv[2], sys.argv[3], fork=True)"
    return subprocess.run([sys.executable, "-c", code, str(config), str(batch), str(out)],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300)  # fmt: skip
