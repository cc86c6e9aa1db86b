"""Training, evaluation and the promotion gate on small synthetic data with a real signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlrig.components.config.schema import Model
from mlrig.components.contract.metrics import holdout_metrics, scores
from mlrig.components.register.core import gate
from mlrig.components.runtime.html_report import classification_plots, render
from mlrig.components.train.core import build_pipeline, fit, rows_to_fit
from mlrig.components.train.search import TrainingError, tune
from mlrig.components.train.splits import time_split
from mlrig.components.train.threshold import choose


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


def test_the_time_split_holds_the_rows_once_training_then_holdout(synthetic):
    split = time_split(synthetic.sample(frac=1, random_state=1), "event_timestamp", 0.2)
    whole = split.all_rows()
    assert whole is split.whole and len(whole) == len(synthetic)
    assert np.shares_memory(split.train["x"].to_numpy(), whole["x"].to_numpy())
    assert list(split.holdout.index) == list(range(len(split.holdout)))
    pd.testing.assert_frame_equal(
        whole.iloc[len(split.train) :].reset_index(drop=True), split.holdout
    )


@pytest.mark.parametrize(("name", "rows"), [("logistic_regression", 200), ("lightgbm", 1500)])
def test_only_a_linear_model_is_fitted_on_a_sample_past_its_row_cap(synthetic, name, rows):
    y = synthetic["y"].to_numpy()
    x, y_fit = rows_to_fit(name, synthetic, y, 200, seed=42)
    assert len(x) == len(y_fit) == rows
    assert x.index.is_monotonic_increasing  # the rows keep their order
    np.testing.assert_array_equal(y_fit, y[x.index])
    again, _ = rows_to_fit(name, synthetic, y, 200, seed=42)
    assert list(again.index) == list(x.index)


def _spec(**over):
    base = dict(
        name="m",
        candidates={"logistic_regression": {}, "lightgbm": {"num_leaves": [7, 15]}},
        tuning={"trials": 6},
        cv_folds=3,
        tuning_sample_rows=1000,
        primary_metric="roc_auc",
    )
    return Model(**{**base, **over})


def test_budgeted_search_is_deterministic_and_the_best_beats_chance(synthetic):
    split = time_split(synthetic, "event_timestamp", 0.2)
    y = split.train.y.to_numpy(dtype=int)
    args = (split.train, y, ["x", "cat"], ["cat"], "binary", 2, _spec(),
            split.train.event_timestamp)  # fmt: skip
    result = tune(*args)
    again = tune(*args)
    assert (result.name, result.params) == (again.name, again.params)  # same seed, same pick
    assert len(result.trials) == 6 and result.cv_scheme.endswith("forward-chaining (time)")
    assert {t["candidate"] for t in result.trials} <= {"logistic_regression", "lightgbm"}
    from mlrig.components.train.core import build_pipeline

    model = build_pipeline(result.name, "binary", ["x"], ["cat"], 0, result.params)
    model.fit(split.train[["x", "cat"]], y)
    y_score = scores(model, split.holdout[["x", "cat"]], "binary")
    metrics = holdout_metrics(split.holdout.y.to_numpy(dtype=int), y_score, "binary")
    assert metrics["roc_auc"] > 0.75
    assert set(metrics) >= {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}
    cv = result.cv  # the chosen configuration's CV, reused by evaluation (no refit)
    assert 0.75 < cv["cv_roc_auc_mean"] <= 1 and cv["cv_roc_auc_std"] >= 0
    assert len(result.oof.oof_index) == len(result.oof.oof_score) > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [({"cv_folds": 5}, "model.cv_folds"), ({}, "single class")],
)
def test_bad_training_input_is_named_before_any_fit(synthetic, change, message):
    frame = synthetic.head(5) if change else synthetic
    y = np.zeros(len(frame), dtype=int)
    with pytest.raises(TrainingError, match=message):
        tune(frame, y, ["x", "cat"], ["cat"], "binary", 2, _spec(**change), None)


def test_zero_budget_is_a_config_error():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="trials"):
        _spec(tuning={"trials": 0})


def test_threshold_rules_on_out_of_fold_predictions():
    from mlrig.components.config.schema import Threshold

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 2000)
    p = np.clip(y * 0.3 + rng.random(2000) * 0.7, 0, 1)
    t_f1, why = choose(y, p, Threshold(rule="max_f1"))
    assert 0 < t_f1 < 1 and "F1" in why
    t_prec, _ = choose(y, p, Threshold(rule="precision", value=0.9))
    assert ((p >= t_prec) & (y == 1)).sum() / (p >= t_prec).sum() >= 0.9
    t_rec, _ = choose(y, p, Threshold(rule="recall", value=0.95))
    assert ((p >= t_rec) & (y == 1)).sum() / (y == 1).sum() >= 0.95
    cheap_fn, _ = choose(y, p, Threshold(rule="cost", cost_fp=10, cost_fn=1))
    dear_fn, _ = choose(y, p, Threshold(rule="cost", cost_fp=1, cost_fn=10))
    assert dear_fn < cheap_fn  # missing a positive costs more: flag more rows
    assert choose(y, p, Threshold(rule="fixed", value=0.3))[0] == 0.3


def test_multiclass_metrics_are_macro_and_survive_an_absent_class():
    y = np.array([0, 1, 1, 0])  # class 2 never occurs in this window
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.6, 0.3], [0.5, 0.2, 0.3]])
    m = holdout_metrics(y, proba, "multiclass")
    assert m["accuracy"] == 1.0 and m["roc_auc"] == 1.0 and np.isfinite(m["log_loss"])


def test_regression_metrics():
    y = np.array([1.0, 2.0, 3.0])
    m = holdout_metrics(y, y + 1, "regression")
    assert m == {"rmse": 1.0, "mae": 1.0, "r2": pytest.approx(-0.5)}


def test_cv_holdout_disagreement_is_relative_for_errors_in_the_targets_units():
    """An rmse gap of 0.1 on sales of about 40 (RMSE 5) is noise; on a ratio target it is not.
    Scores in [0, 1] and r2 keep an absolute margin."""
    from mlrig.components.evaluate.core import disagreement

    assert disagreement({"cv_rmse_mean": 5.35}, {"rmse": 5.25}, "rmse", 0.05) == ""
    note = disagreement({"cv_rmse_mean": 0.5}, {"rmse": 0.4}, "rmse", 0.05)
    assert "disagree on rmse" in note and "20.0% of CV > margin 5%" in note
    assert disagreement({"cv_mae_mean": 100.0}, {"mae": 112.0}, "mae", 0.05) != ""
    assert disagreement({"cv_roc_auc_mean": 0.90}, {"roc_auc": 0.93}, "roc_auc", 0.05) == ""
    note = disagreement({"cv_r2_mean": 0.8}, {"r2": 0.7}, "r2", 0.05)
    assert "more than the margin 0.05" in note and "check for drift or leakage" in note


def test_a_holdout_better_than_cv_is_not_called_drift():
    """400 rows and 150 inputs: CV's folds fit on two thirds of the training rows and score
    worse than the final model does on the holdout. The note says so, not 'drift'."""
    from mlrig.components.evaluate.core import disagreement

    note = disagreement({"cv_rmse_mean": 0.80}, {"rmse": 0.62}, "rmse", 0.05, 0.04)
    assert "the holdout did better: each CV fold fits on fewer rows" in note
    assert "drift" not in note
    note = disagreement({"cv_roc_auc_mean": 0.70}, {"roc_auc": 0.80}, "roc_auc", 0.05)
    assert "the holdout did better" in note
    worse = disagreement({"cv_roc_auc_mean": 0.80}, {"roc_auc": 0.70}, "roc_auc", 0.05)
    assert "check for drift or leakage" in worse


def test_a_gap_within_the_holdouts_own_noise_is_not_called_disagreement():
    """A 240-row holdout of a target with noise 50,000 lands a few thousand away from CV by
    chance: the bootstrap standard error says how far, and only a gap beyond twice it is
    flagged. The same gap on a large, precise holdout is."""
    from mlrig.components.contract.metrics import holdout_noise
    from mlrig.components.evaluate.core import disagreement

    rng = np.random.default_rng(3)
    y = rng.normal(0, 50_000, 240)
    noise = holdout_noise(y, np.zeros(240), "regression", "rmse", seed=1)
    assert 1_500 < noise < 3_500  # about 50,000 / sqrt(2 * 240) = 2,282
    cv, holdout = {"cv_rmse_mean": 50_000.0}, {"rmse": 54_200.0}  # 8.4% apart
    assert disagreement(cv, holdout, "rmse", 0.05, noise) == ""
    assert "8.4% of CV" in disagreement(cv, holdout, "rmse", 0.05, 500.0)
    assert "twice the holdout's standard error 500.0000" in disagreement(
        cv, holdout, "rmse", 0.05, 500.0
    )
    labels = rng.integers(0, 2, 50_000)
    score = labels * 0.3 + rng.random(50_000) * 0.7  # ROC-AUC about 0.8
    proba = np.column_stack([1 - score, score])
    small = holdout_noise(labels[:500], proba[:500], "binary", "roc_auc", seed=1, resamples=50)
    large = holdout_noise(labels, proba, "binary", "roc_auc", seed=1, resamples=50)  # capped
    assert 0 < large < small / 5  # 100x the rows: about a tenth of the spread


def test_report_is_html_with_plots():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    page = render("t", {"Holdout": {"roc_auc": 0.7}}, classification_plots(y, rng.random(200)))
    assert page.count("data:image/png;base64,") == 4 and "<td>0.7000</td>" in page


def test_gate_promotes_only_a_better_challenger():
    assert gate("roc_auc", 0.70, None).promote
    assert not gate("roc_auc", 0.99, 0.70, sampled=True).promote  # --sample never replaces
    assert gate("roc_auc", 0.7, None, sampled=True, has_champion=False).promote
    assert not gate("roc_auc", 0.9, None, has_champion=True, incomparable="x").promote
    assert gate("log_loss", 0.3, 0.4).promote
    assert not gate("roc_auc", 0.6, None, min_metric=0.7).promote
    assert not gate("roc_auc", 0.9, None, auto_promote=False).promote
    assert gate("roc_auc", 0.71, 0.70).promote
    assert not gate("roc_auc", 0.70, 0.70).promote
    assert not gate("roc_auc", 0.705, 0.70, min_delta=0.01).promote
    assert gate("rmse", 1.0, 1.2).promote and not gate("rmse", 1.3, 1.2).promote


def test_sigmoid_calibration_fixes_overconfident_probabilities():
    from sklearn.metrics import brier_score_loss

    from mlrig.components.train.core import PlattCalibrated, fit_platt

    rng = np.random.default_rng(7)
    z = rng.normal(size=20_000)
    y = (rng.random(20_000) < 1 / (1 + np.exp(-z))).astype(int)
    overconfident = 1 / (1 + np.exp(-3 * z))  # right order, wrong scale

    class Fixed:
        classes_ = np.array([0, 1])

        def predict_proba(self, x):
            return np.column_stack([1 - x, x])

    a, b = fit_platt(y, overconfident)
    assert 0.25 < a < 0.45  # undoes the factor 3
    calibrated = PlattCalibrated(Fixed(), a, b).predict_proba(overconfident)[:, 1]
    assert brier_score_loss(y, calibrated) < brier_score_loss(y, overconfident) - 0.01


def test_gradient_boosting_of_many_classes_stops_early_where_every_class_can_be_held_out():
    """A tree per class each round: on many classes, 100 rounds of nothing to learn cost seconds a
    fit. It stops once validation loss stalls; a class of one row cannot be held out, so a fit
    with one keeps scikit-learn's own rule instead of failing."""
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    many = np.arange(400) % 12
    pipe = fit(build_pipeline("hist_gradient_boosting", "multiclass", ["a", "b"], [], 0), x, many)
    model = pipe.steps[-1][1]
    assert model.early_stopping is True and model.n_iter_ < model.max_iter
    rare = np.where(np.arange(400) == 5, 12, many)  # class 12 has one row
    pipe = fit(build_pipeline("hist_gradient_boosting", "multiclass", ["a", "b"], [], 0), x, rare)
    assert pipe.steps[-1][1].early_stopping == "auto" and pipe.steps[-1][1].n_iter_ == 100
    two = np.arange(400) % 2
    pipe = fit(build_pipeline("hist_gradient_boosting", "binary", ["a", "b"], [], 0), x, two)
    assert pipe.steps[-1][1].early_stopping == "auto"  # one tree a round: as scikit-learn sets it
