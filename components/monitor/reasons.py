"""Explanation drift: each input's share of the answers' mean |contribution| (contract/explain.py)
on the model's reference rows against the latest logged requests. An input whose share moved by
more than monitor.reasons_shift is named; a model whose reasons moved while no input drifted is
flagged (its answers lean on other inputs than it did, for reasons the inputs do not show)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.contract.contract import Contract
from mlrig.components.contract.explain import explain_row, explainer_of, mean_abs

ROWS = 1000  # per side: about 0.6 ms a row with a 300-tree LightGBM


def shares(compiled: Any, rows: pd.DataFrame, inputs: list[str], seed: int = 0) -> dict[str, float]:
    """Each input's share of mean |contribution| over (a seeded sample of) rows; empty when the
    model has no exact method."""
    if len(rows) > ROWS:
        rows = rows.sample(ROWS, random_state=seed)
    frame = (
        rows.reindex(columns=inputs)
        .astype(object)
        .where(rows.reindex(columns=inputs).notna(), np.nan)
    )
    found = mean_abs(compiled, frame.to_dict("records"), inputs)
    if found is None:
        return {}
    totals = found["mean_abs"]
    whole = sum(totals.values())
    return {name: value / whole for name, value in totals.items()} if whole > 0 else {}


def check(
    model: Any,
    contract: Contract,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    shift: float,
    inputs_drifted: list[str],
) -> dict[str, Any]:
    """The reasons' shares on both sides, the inputs whose share moved by more than shift, and
    whether the reasons moved while no input drifted."""
    c = contract
    compiled, why = explainer_of(
        model, c.task, c.inputs, c.categorical, len(c.classes), background=reference[c.inputs]
    )
    ref, cur = shares(compiled, reference, c.inputs), shares(compiled, current, c.inputs)
    if not ref or not cur:
        return {"method": "unavailable", "reason": why or "no exact method", "moved": []}
    moved = sorted(
        (name for name in c.inputs if abs(cur[name] - ref[name]) > shift),
        key=lambda name: -abs(cur[name] - ref[name]),
    )
    return {
        "method": explain_row(compiled, reference[c.inputs].iloc[0].to_dict())["method"],
        "shift": shift,
        "shares": {name: {"reference": ref[name], "current": cur[name]} for name in c.inputs},
        "moved": moved,
        "reasons_moved_inputs_stable": bool(moved) and not inputs_drifted,
    }


def section(result: dict[str, Any]) -> dict[str, str]:
    """The drift report's table of reasons: each input's share, reference -> current."""
    if result.get("method") == "unavailable":
        return {"not available": str(result.get("reason"))}
    rows = sorted(result["shares"].items(), key=lambda kv: -kv[1]["current"])
    table = {
        name: f"{s['reference']:.1%} → {s['current']:.1%}"
        + ("  MOVED" if name in result["moved"] else "")
        for name, s in rows
    }
    if result["reasons_moved_inputs_stable"]:
        table["flag"] = "the model's reasons moved while no input drifted"
    return table
