"""Training, evaluation and the promotion gate on small synthetic data with a real signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlrig.components.common.html_report import classification_plots, render
from mlrig.components.config.schema import Model
from mlrig.components.evaluate.metrics import cv_metrics, holdout_metrics, scores
from mlrig.components.register.core import gate
from mlrig.components.train.core import fit_candidates, time_split


@pytest.fixture
def synthetic():
    rng = np.random.default_rng(0)
    n = 1500
    x = rng.normal(size=n)
    cat = rng.choice(["a", "b", "c"], size=n)
    logit = 2 * x + (cat == "a") * 1.5 - 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    ts = pd.date_range("2013-01-01", periods=n, freq="h", tz="UTC")
    x[::50] = np.nan
    return pd.DataFrame({"event_timestamp": ts, "x": x, "cat": cat, "y": y})


def test_time_split_puts_later_events_in_holdout(synthetic):
    split = time_split(synthetic.sample(frac=1, random_state=1), "event_timestamp", 0.2)
    assert split.train.event_timestamp.max() < split.holdout.event_timestamp.min()
    assert len(split.holdout) == pytest.approx(300, abs=2)


def test_candidates_are_tuned_and_the_best_beats_chance(synthetic):
    spec = Model(
        name="m",
        candidates={"logistic_regression": {"C": [0.1, 1.0]}, "hist_gradient_boosting": {
            "learning_rate": [0.1]}},
        cv_folds=3,
        tuning_sample_rows=1000,
    )  # fmt: skip
    split = time_split(synthetic, "event_timestamp", 0.2)
    result = fit_candidates(split.train, ["x", "cat"], ["cat"], "y", "classification", spec)
    assert len(result.search) == 3
    assert result.name in {"logistic_regression", "hist_gradient_boosting"}
    y_score = scores(result.model, split.holdout, ["x", "cat"], "y", "classification")
    metrics = holdout_metrics(split.holdout.y.to_numpy(), y_score, "classification")
    assert metrics["roc_auc"] > 0.75
    assert set(metrics) >= {"accuracy", "precision", "recall", "f1", "roc_auc"}
    cv = cv_metrics(result.model, split.train, ["x", "cat"], "y", "classification", 3, 0)
    assert 0.75 < cv["cv_roc_auc_mean"] <= 1 and cv["cv_roc_auc_std"] >= 0


def test_regression_metrics():
    y = np.array([1.0, 2.0, 3.0])
    m = holdout_metrics(y, y + 1, "regression")
    assert m == {"rmse": 1.0, "mae": 1.0, "r2": pytest.approx(-0.5)}


def test_report_is_html_with_plots():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    page = render("t", {"Holdout": {"roc_auc": 0.7}}, classification_plots(y, rng.random(200)))
    assert page.count("data:image/png;base64,") == 4 and "<td>0.7000</td>" in page


def test_gate_promotes_only_a_better_challenger():
    assert gate("roc_auc", 0.70, None).promote
    assert gate("roc_auc", 0.71, 0.70).promote
    assert not gate("roc_auc", 0.70, 0.70).promote
    assert not gate("roc_auc", 0.705, 0.70, min_delta=0.01).promote
    assert gate("rmse", 1.0, 1.2).promote and not gate("rmse", 1.3, 1.2).promote
