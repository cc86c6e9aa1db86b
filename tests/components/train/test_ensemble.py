"""The ensemble candidate: a blend of the search's best models, weighted on out-of-fold
predictions and released only when it beats the single choice by more than the CV's noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, Ridge

from mlrig.components.config.schema import Model
from mlrig.components.contract.blend import Blend
from mlrig.components.contract.compiled_model import CompiledBlend, compile_one
from mlrig.components.train.core import PlattCalibrated, build_pipeline
from mlrig.components.train.ensemble import greedy_weights
from mlrig.components.train.search import tune

INPUTS = ["a", "b", "c", "d"]


def _rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y - p) ** 2)))


def _table(step: float = 2.0, n: int = 800) -> tuple[pd.DataFrame, np.ndarray]:
    """A sum of the inputs (a line: ridge draws it, trees step) plus a jump (trees draw it)."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-3, 3, size=(n, 4))
    y = x.sum(axis=1) + step * (x[:, 2] > 0) + rng.normal(0, 0.5, n)
    return pd.DataFrame(x, columns=INPUTS), y


def _spec(**over) -> Model:
    base = dict(name="m", candidates={"ridge": {"alpha": [1.0]}, "lightgbm": {"num_leaves": [7, 15]}},
                tuning={"trials": 6, "prune": False}, cv_folds=3, primary_metric="rmse")  # fmt: skip
    return Model(**{**base, **over})


def test_two_predictors_with_independent_errors_share_the_weight_and_their_mean_is_better():
    rng = np.random.default_rng(0)
    y = rng.normal(size=4000)
    first, second = y + rng.normal(0, 1, 4000), y + rng.normal(0, 1, 4000)
    weights = greedy_weights([first, second], y, "regression", "rmse", lower=True)
    assert 0.3 <= weights[0] <= 0.7 and abs(weights.sum() - 1) < 1e-12
    blended = weights[0] * first + weights[1] * second
    assert _rmse(y, blended) < 0.8 * min(_rmse(y, first), _rmse(y, second))


def test_a_predictor_that_only_adds_noise_gets_no_weight():
    rng = np.random.default_rng(1)
    y = rng.normal(size=2000)
    good, noise = y + rng.normal(0, 0.1, 2000), rng.normal(0, 3, 2000)
    weights = greedy_weights([good, noise], y, "regression", "rmse", lower=True)
    assert list(weights) == [1.0, 0.0]


def test_a_blend_that_beats_the_single_choice_is_released_with_its_members_and_honest_cv():
    frame, y = _table()
    result = tune(frame, y, INPUTS, [], "regression", 0, _spec(), None)
    assert result.name == "ensemble"
    assert {m.name for m in result.members} >= {"ridge", "lightgbm"}
    assert abs(sum(m.weight for m in result.members) - 1) < 1e-9
    assert result.ensemble_rule.startswith("blend released (")
    best_single = min(t["cv_score"] for t in result.trials if t["state"] == "complete")
    assert result.cv["cv_rmse_mean"] < best_single
    # the out-of-fold scores are the cross-fitted blend's, one per validated row
    assert len(result.oof.oof_score) == len(result.oof.oof_index) == sum(result.oof.fold_sizes)
    assert _rmse(y[result.oof.oof_index], result.oof.oof_score) < best_single * 1.05


def test_the_single_choice_stands_when_the_blend_does_not_beat_it_and_the_run_says_why():
    frame, _ = _table()
    y = np.where(frame["c"] > 0, 2.0, 0.0) + np.random.default_rng(5).normal(0, 0.05, len(frame))
    result = tune(frame, y, INPUTS, [], "regression", 0, _spec(), None)  # a jump: trees alone
    assert result.name != "ensemble" and not result.members
    assert "blend" in result.ensemble_rule and "released" not in result.ensemble_rule


def test_the_blend_can_be_turned_off():
    frame, y = _table()
    result = tune(frame, y, INPUTS, [], "regression", 0, _spec(ensemble=False), None)
    assert result.name != "ensemble" and result.ensemble_rule == ""


def test_a_blend_predicts_the_weighted_mean_of_its_members():
    frame, y = _table(n=300)
    ridge, lgbm = Ridge().fit(frame, y), Ridge(alpha=100.0).fit(frame, y)
    blend = Blend([ridge, lgbm], [0.25, 0.75], "regression")
    expected = 0.25 * ridge.predict(frame) + 0.75 * lgbm.predict(frame)
    assert np.allclose(blend.predict(frame), expected, rtol=0, atol=1e-12)


def test_a_classifier_blend_gives_probabilities_that_sum_to_one_and_the_argmax_class():
    frame, y = _table(n=300)
    labels = np.digitize(y, [-2.0, 2.0])  # three classes
    one = LogisticRegression(max_iter=500).fit(frame, labels)
    two = LogisticRegression(C=0.01, max_iter=500).fit(frame, labels)
    blend = Blend([one, two], [0.6, 0.4], "multiclass")
    proba = blend.predict_proba(frame)
    expected = 0.6 * one.predict_proba(frame) + 0.4 * two.predict_proba(frame)
    assert np.allclose(proba, expected, atol=1e-12) and np.allclose(proba.sum(axis=1), 1)
    assert (blend.predict(frame) == np.argmax(expected, axis=1)).all()


def test_a_blend_of_the_pipelines_train_builds_is_compiled_for_one_row_at_a_time():
    frame, y = _table(n=400)
    frame["e"] = np.where(y > 0, "up", "down")
    members = [
        build_pipeline(name, "regression", INPUTS, ["e"], 0) for name in ("ridge", "lightgbm")
    ]
    blend = Blend([m.fit(frame, y) for m in members], [0.5, 0.5], "regression")
    compiled, why = compile_one(blend, "regression", [*INPUTS, "e"], ["e"], 0)
    assert isinstance(compiled, CompiledBlend), why
    row = frame.iloc[0].to_dict()
    assert np.isclose(compiled.predict(compiled.vector(row))[0], blend.predict(frame.iloc[[0]])[0])


def test_a_calibrated_binary_blend_is_compiled_and_scores_as_its_pipelines():
    frame, y = _table(n=400)
    frame["e"] = np.where(frame["a"] > 0, "up", "down")
    labels = (y > 1).astype(int)
    names = ("logistic_regression", "lightgbm")
    members = [build_pipeline(n, "binary", INPUTS, ["e"], 0).fit(frame, labels) for n in names]
    model = PlattCalibrated(Blend(members, [0.3, 0.7], "binary"), 1.2, -0.1)
    compiled, why = compile_one(model, "binary", [*INPUTS, "e"], ["e"], 2)
    assert isinstance(compiled, CompiledBlend), why
    rows = frame.iloc[:20]
    one_by_one = np.vstack(
        [compiled.predict_proba(compiled.vector(r)) for r in rows.to_dict("records")]
    )
    assert np.allclose(one_by_one, model.predict_proba(rows), rtol=1e-9, atol=1e-12)
