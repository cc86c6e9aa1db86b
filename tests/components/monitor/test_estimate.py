"""Performance before labels: metrics estimated from calibrated probabilities land near the
realized ones, and a drop shows in the estimate before any label arrives."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from mlrig.components.contract.contract import Contract
from mlrig.components.contract.metrics import calibration_error
from mlrig.components.monitor.estimate import estimated
from mlrig.components.monitor.performance import judge, window_metrics


def _stream(n: int, sharpness: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated scores (a row scored p is positive with probability p)."""
    rng = np.random.default_rng(seed)
    p = rng.beta(sharpness, sharpness, n)
    return p, (rng.random(n) < p).astype(int)


@pytest.mark.parametrize("sharpness", [0.5, 2.0, 5.0])
def test_estimates_from_calibrated_probabilities_land_near_the_realized_metrics(sharpness):
    p, y = _stream(20_000, sharpness, 0)
    got = estimated(p, 0.5)
    assert got["estimated_roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=0.01)
    assert got["estimated_accuracy"] == pytest.approx(accuracy_score(y, p >= 0.5), abs=0.01)
    assert got["estimated_f1"] == pytest.approx(f1_score(y, p >= 0.5), abs=0.01)


def test_calibration_error_is_small_for_calibrated_scores_and_large_otherwise():
    p, y = _stream(20_000, 2.0, 1)
    assert calibration_error(y, p) < 0.02
    assert calibration_error(y, p**3) > 0.1


def _contract() -> Contract:
    return Contract(task="binary", target="y", request_fields={}, entity_keys={},
                    derivations=[], date_parts=None, event_time="ts", timezone="UTC",
                    features=None, inputs=["x"], classes=[0, 1], threshold=0.5)  # fmt: skip


def _log(p: np.ndarray, y: np.ndarray | None, day: str) -> pd.DataFrame:
    prediction = [json.dumps({"prediction": int(v >= 0.5), "probability": float(v)}) for v in p]
    labels = [None] * len(p) if y is None else [json.dumps(int(v)) for v in y]
    return pd.DataFrame(
        {"logged_at": day, "event_time": day, "prediction": prediction, "label": labels}
    )


def test_a_drop_shows_in_the_estimate_before_any_label_arrives():
    sharp_p, sharp_y = _stream(3000, 0.5, 2)  # the served month: confident and right
    vague_p, _ = _stream(3000, 5.0, 3)  # next month: scores near 0.5, no labels yet
    logged = pd.concat([_log(sharp_p, sharp_y, "2024-01-10"), _log(vague_p, None, "2024-02-10")])
    windows = window_metrics(logged, _contract(), "M")
    labelled, waiting = windows.to_dict("records")
    assert labelled["rows"] == 3000 and labelled["roc_auc"] == pytest.approx(
        labelled["estimated_roc_auc"], abs=0.02
    )
    assert waiting["rows"] == 0 and "roc_auc" not in waiting or pd.isna(waiting["roc_auc"])
    assert waiting["estimated_rows"] == 3000 and waiting["estimated_roc_auc"] < 0.75
    at_evaluation = {"holdout_roc_auc": labelled["roc_auc"]}
    flagged = judge(windows, at_evaluation, "roc_auc", 0.05, 50, use_estimates=True)
    assert flagged == [
        f"2024-02: estimated roc_auc {waiting['estimated_roc_auc']:.4f} vs "
        f"{labelled['roc_auc']:.4f} at evaluation (before labels)"
    ]
    assert judge(windows, at_evaluation, "roc_auc", 0.05, 50) == []  # the policy's choice
