"""Evaluation in depth: metrics per slice of configured columns, permutation importance, and
each input's share of the answers' contributions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.contract.contract import Contract
from mlrig.components.contract.explain import explain_row, explainer_of, mean_abs
from mlrig.components.contract.metrics import better, holdout_metrics, scores

IMPORTANCE_ROWS = 3000
IMPORTANCE_REPEATS = 3
# cells of the shuffled copies scored in all (rows x inputs of every copy; the model's transform
# of a copy costs its width): a wide table's sample is smaller, at least IMPORTANCE_MIN_ROWS.
# 301 inputs: 150 rows where 900 took 39 s; up to 57 inputs keep 3,000 (the demo has 28)
IMPORTANCE_CELLS = 30_000_000
IMPORTANCE_MIN_ROWS = 150
BATCH_ROWS = 300_000  # shuffled rows scored in one call


def slice_table(
    holdout: pd.DataFrame,
    y_true: np.ndarray,
    y_score: np.ndarray,
    contract: Contract,
    columns: list[str],
    metric: str,
    min_rows: int,
) -> dict[str, dict[str, str]]:
    """Per column, per value: rows and the primary metric; slices under min_rows flagged."""
    out: dict[str, dict[str, str]] = {}
    for column in columns:
        rows: dict[str, str] = {}
        values = holdout[column].astype(object).where(holdout[column].notna(), "(missing)")
        for value, idx in values.groupby(values).groups.items():
            pos = holdout.index.get_indexer(idx)
            m = holdout_metrics(
                y_true[pos], y_score[pos], contract.task, contract.threshold, only=metric
            )
            flag = "  (small slice)" if len(pos) < min_rows else ""
            rows[str(value)] = f"{metric} {m[metric]:.4f} · n {len(pos)}{flag}"
        out[column] = rows
    return out


def importance_rows(rows: int, inputs: int) -> int:
    """How many holdout rows the permutation importance shuffles: IMPORTANCE_ROWS, fewer where
    the inputs are many (IMPORTANCE_CELLS in all: a copy per input and repeat, each as wide as
    the inputs), never fewer than IMPORTANCE_MIN_ROWS nor more than the holdout has."""
    bounded = IMPORTANCE_CELLS // max(1, inputs * inputs * IMPORTANCE_REPEATS)
    return min(rows, max(IMPORTANCE_MIN_ROWS, min(IMPORTANCE_ROWS, bounded)))


def permutation(
    model: Any,
    holdout: pd.DataFrame,
    y_true: np.ndarray,
    contract: Contract,
    metric: str,
    seed: int,
) -> dict[str, str]:
    """How much the primary metric drops when each input is shuffled (mean over repeats), on a
    sample of the holdout (importance_rows); the largest drops first. The shuffled copies are
    scored together, BATCH_ROWS rows a call: one call per copy spent most of its time around the
    model."""
    rng = np.random.default_rng(seed)
    n = importance_rows(len(holdout), len(contract.inputs))
    pick = rng.choice(len(holdout), size=n, replace=False)
    x = holdout.iloc[pick][contract.inputs].reset_index(drop=True)
    y = y_true[pick]
    k = len(contract.classes)

    def value(pred: np.ndarray) -> float:
        return holdout_metrics(y, pred, contract.task, contract.threshold, only=metric)[metric]

    base = value(scores(model, x, contract.task, k))
    copies = [(c, rng.permutation(n)) for c in contract.inputs for _ in range(IMPORTANCE_REPEATS)]
    losses: dict[str, list[float]] = {c: [] for c in contract.inputs}
    per_call = max(1, BATCH_ROWS // n)
    for start in range(0, len(copies), per_call):
        batch = copies[start : start + per_call]
        frames = []
        for column, order in batch:
            shuffled = x.copy()
            shuffled[column] = shuffled[column].to_numpy()[order]
            frames.append(shuffled)
        pred = scores(model, pd.concat(frames, ignore_index=True), contract.task, k)
        for i, (column, _) in enumerate(batch):
            losses[column].append(better(metric, base, value(pred[i * n : (i + 1) * n])))
    drops = {c: float(np.nanmean(v)) for c, v in losses.items()}
    ranked = sorted(drops.items(), key=lambda kv: -kv[1] if np.isfinite(kv[1]) else 0)
    return {c: f"{d:+.4f}" for c, d in ranked}


CONTRIBUTION_ROWS = 1000
CONTRIBUTIONS_FILE = "contributions.json"


def contributions(
    model: Any, holdout: pd.DataFrame, contract: Contract, seed: int
) -> tuple[dict[str, str], dict[str, float]]:
    """Each input's mean |contribution| to the answers (contract/explain.py) on a sample of the
    holdout, and its share of their sum; the largest first. Also the shares by input (empty when
    the model has no exact method)."""
    c = contract
    compiled, why = explainer_of(
        model, c.task, c.inputs, c.categorical, len(c.classes), background=holdout[c.inputs]
    )
    rng = np.random.default_rng(seed)
    n = min(CONTRIBUTION_ROWS, len(holdout))
    rows = holdout.iloc[rng.choice(len(holdout), size=n, replace=False)][c.inputs]
    found = mean_abs(compiled, rows.to_dict("records"), c.inputs)
    if found is None:
        one = explain_row(compiled, rows.iloc[0].to_dict()) if len(rows) else None
        return {"not available": (one or {}).get("reason") or why or "no holdout rows"}, {}
    totals = found["mean_abs"]
    whole = sum(totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    table = {name: f"{value:.4f} ({value / whole:.1%})" for name, value in ranked}
    table["method"] = f"{found['method']}, on {found['output']}"
    return table, {name: value / whole for name, value in ranked}
