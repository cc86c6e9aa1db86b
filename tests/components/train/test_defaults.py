"""The tuned choice against LightGBM at its default parameters on the same folds: the tuned one is
released only when it beats the defaults by more than the standard error of their per-fold
differences."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlrig.components.config.schema import Model
from mlrig.components.train.search import tune


def _table(kind: str, n: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.uniform(-3, 3, size=(n, 3))
    if kind == "linear":  # a line with little noise: a linear model is exact, trees step
        y = 4 * x[:, 0] - 2 * x[:, 1] + rng.normal(0, 0.05, n)
    else:  # an interaction no linear model can draw
        y = np.where(x[:, 0] * x[:, 1] > 0, 5.0, -5.0) + rng.normal(0, 0.5, n)
    return pd.DataFrame(x, columns=["a", "b", "c"]), y


def _spec(**over) -> Model:
    base = dict(name="m", candidates={"ridge": {"alpha": [0.1, 1.0]}}, tuning={"trials": 3},
                cv_folds=3, primary_metric="rmse")  # fmt: skip
    return Model(**{**base, **over})


def test_a_tuned_model_that_beats_the_defaults_clearly_is_kept():
    frame, y = _table("linear")
    result = tune(frame, y, ["a", "b", "c"], [], "regression", 0, _spec(), None)
    assert result.name == "ridge"
    assert result.default_rule.startswith("tuned ridge kept: it beats LightGBM defaults (rmse")


def test_the_defaults_are_released_when_the_tuned_model_does_not_beat_them():
    frame, y = _table("interaction")
    result = tune(frame, y, ["a", "b", "c"], [], "regression", 0, _spec(), None)
    assert (result.name, result.params, result.best_trial) == ("lightgbm", {}, -1)
    assert result.default_rule.startswith("LightGBM defaults released: tuned ridge does not beat")
    tuned_rmse = min(t["cv_score"] for t in result.trials)
    assert result.cv["cv_rmse_mean"] < tuned_rmse  # what was released is what scored better
    assert len(result.oof.oof_index) == len(result.oof.oof_score) > 0


def test_the_rule_can_be_turned_off():
    frame, y = _table("interaction")
    spec = _spec(prefer_defaults=False)
    result = tune(frame, y, ["a", "b", "c"], [], "regression", 0, spec, None)
    assert result.name == "ridge" and result.default_rule == ""


def test_the_tuning_budget_grows_with_the_table_and_is_capped():
    from mlrig.components.train.search import MAX_SECONDS, budget_seconds

    small, wide, huge = (
        budget_seconds(500, 5),
        budget_seconds(50_000, 40),
        budget_seconds(10**7, 500),
    )
    assert small < 301 and small < wide < huge == MAX_SECONDS


def test_a_small_table_ends_on_its_trial_count_and_the_run_says_within_what():
    frame, y = _table("linear")
    result = tune(frame, y, ["a", "b", "c"], [], "regression", 0, _spec(), None)
    assert result.budget.startswith("3 of 3 trials within 300 s (scaled to 600 rows x 3 inputs)")
    assert result.budget.endswith("ended by the trial count")


def test_a_set_timeout_stops_the_search_and_the_run_says_so():
    frame, y = _table("linear")
    spec = _spec(tuning={"trials": 1000, "timeout_s": 1.0})
    result = tune(frame, y, ["a", "b", "c"], [], "regression", 0, spec, None)
    assert "of 1000 trials within 1 s (set); ended by the time" in result.budget


def test_the_noise_of_a_comparison_is_that_of_its_per_fold_differences():
    from mlrig.components.train.results import paired_se

    # folds of very different difficulty, one model steadily better by 1
    ours = [{"rmse": 10.0}, {"rmse": 20.0}, {"rmse": 30.0}]
    theirs = [{"rmse": 11.0}, {"rmse": 21.2}, {"rmse": 30.8}]
    assert paired_se(ours, theirs, "rmse") < 0.2  # where the scores' own std/sqrt(3) is ~4.7
    assert paired_se(ours[:1], theirs[:1], "rmse") == float("inf")  # one fold: no noise estimate
