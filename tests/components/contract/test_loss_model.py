"""Direct loss estimation: a regression model's RMSE and MAE estimated from its inputs and
predictions, before labels, land near the realized ones on traffic like the holdout and on
traffic shifted to where the model errs more, and the monitor judges a window by them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlrig.components.contract.contract import Contract
from mlrig.components.contract.loss_model import estimated_loss, fit_loss_model
from mlrig.components.monitor.performance import judge, window_metrics

CONTRACT = Contract(task="regression", target="y", request_fields={}, entity_keys={},
                    derivations=[], date_parts=None, event_time=None, timezone="UTC",
                    features=None, inputs=["x", "shop"], categorical=["shop"])  # fmt: skip


def _rows(n: int, seed: int, low: float = 0.0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """x in [low, 1]: the noise grows with x, and shop 'b' adds more; the prediction is the
    noise-free value, so the errors are exactly the noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, 1.0, n)
    shop = rng.choice(["a", "b"], n)
    sd = 0.2 + 2.0 * x + np.where(shop == "b", 1.0, 0.0)
    predicted = 3 * x
    return pd.DataFrame({"x": x, "shop": shop}), predicted + rng.normal(0, sd), predicted


def _rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y - p) ** 2)))


@pytest.fixture(scope="module")
def loss():
    inputs, y, predicted = _rows(4000, 0)
    return fit_loss_model(inputs, y, predicted, CONTRACT, seed=0)


def test_estimates_land_near_the_realized_errors_on_like_and_shifted_traffic(loss):
    like, y, p = _rows(3000, 1)
    shifted, ys, ps = _rows(3000, 2, low=0.7)  # where the model errs most
    same, moved = estimated_loss(loss, like, p), estimated_loss(loss, shifted, ps)
    assert same["estimated_rmse"] == pytest.approx(_rmse(y, p), rel=0.1)
    assert same["estimated_mae"] == pytest.approx(float(np.mean(np.abs(y - p))), rel=0.1)
    assert moved["estimated_rmse"] == pytest.approx(_rmse(ys, ps), rel=0.12)
    assert moved["estimated_rmse"] > 1.3 * same["estimated_rmse"]  # seen before any label


def test_the_estimator_is_plain_json_and_ignores_a_level_it_never_saw(loss):
    again = json.loads(json.dumps(loss))
    rows, _, p = _rows(200, 3)
    rows.loc[:10, "shop"] = "never seen"
    assert estimated_loss(again, rows, p) == estimated_loss(loss, rows, p)
    assert fit_loss_model(rows.head(10), p[:10], p[:10], CONTRACT, 0) is None  # too few rows


def test_the_monitor_judges_an_unlabelled_window_by_its_estimate(loss):
    like, y, p = _rows(600, 4)
    shifted, ys, ps = _rows(600, 5, low=0.7)
    frames = []
    for month, (rows, truth, pred, labelled) in {
        "2025-01-15": (like, y, p, True), "2025-02-15": (shifted, ys, ps, False)
    }.items():  # fmt: skip
        frames.append(pd.DataFrame({
            "logged_at": month, "event_time": month,
            "prediction": [json.dumps({"prediction": v}) for v in pred],
            "label": [json.dumps(v) if labelled else None for v in truth],
            "features": [json.dumps(r) for r in rows.to_dict("records")],
        }))  # fmt: skip
    windows = window_metrics(pd.concat(frames, ignore_index=True), CONTRACT, "M", loss)
    january, february = windows.to_dict("records")
    assert january["rmse"] == pytest.approx(_rmse(y, p))  # realized where labels exist
    assert january["estimated_rmse"] == pytest.approx(january["rmse"], rel=0.15)
    assert february["rows"] == 0 and february["estimated_rows"] == 600
    evaluation = {"holdout_rmse": _rmse(y, p)}
    assert judge(windows, evaluation, "rmse", 0.05, 50) == []  # labels only: nothing to judge
    flagged = judge(windows, evaluation, "rmse", 0.05, 50, use_estimates=True)
    assert len(flagged) == 1 and flagged[0].startswith("2025-02: estimated rmse")
