"""XGBoost and CatBoost as candidates: native categories and missing values, trees found by early
stopping on a validation part of each fit's rows, and a clear error when one is not installed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from mlrig.components.config.schema import Model
from mlrig.components.contract.compiled_model import compile_one
from mlrig.components.contract.metrics import holdout_metrics, scores
from mlrig.components.train import boosters
from mlrig.components.train.core import build_pipeline, fit
from mlrig.components.train.search import TrainingError, check_budget, tune

pytest.importorskip("xgboost")
pytest.importorskip("catboost")

BOOSTERS = ["xgboost", "catboost"]


def _table(n: int = 1500) -> pd.DataFrame:
    """A number with holes, and a category (with missing rows) that moves the target."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=n), "c": rng.choice(["x", "y", "z", None], size=n)})
    frame.loc[rng.random(n) < 0.15, "a"] = np.nan
    return frame


def _targets(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    a = frame["a"].fillna(0).to_numpy()
    lift = np.select([frame["c"] == "x", frame["c"].isna()], [2.0, -2.0], 0.0)
    return {
        "binary": (a + lift > 0.5).astype(int),
        "multiclass": np.digitize(a + lift, [-1.0, 1.0]),
        "regression": 3 * a + lift,
    }


@pytest.mark.parametrize("name", BOOSTERS)
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_a_booster_learns_from_categories_and_missing_values(name, task):
    frame = _table()
    y = _targets(frame)[task]
    pipe = fit(build_pipeline(name, task, ["a"], ["c"], 0), frame.iloc[:1200], y[:1200])
    got = holdout_metrics(y[1200:], scores(pipe, frame.iloc[1200:], task, 3), task)
    if task == "regression":
        assert got["rmse"] < 0.2 * np.std(y[1200:])
    else:
        assert got["accuracy"] > 0.95


def test_the_tree_count_comes_from_early_stopping_not_the_cap():
    frame = _table()
    y = _targets(frame)["regression"] + np.random.default_rng(1).normal(0, 1.0, len(frame))
    pipe = fit(build_pipeline("xgboost", "regression", ["a"], ["c"], 0), frame, y)
    assert 1 <= pipe.steps[-1][1].n_trees_ < boosters.MAX_TREES


def test_a_fold_that_lacks_a_class_still_predicts_every_class_column():
    frame = _table(600)
    y = _targets(frame)["multiclass"]
    keep = y != 1  # class 1 absent from this fit
    pipe = fit(build_pipeline("xgboost", "multiclass", ["a"], ["c"], 0), frame[keep], y[keep])
    assert scores(pipe, frame.iloc[:5], "multiclass", 3).shape == (5, 3)


@pytest.mark.parametrize("name", BOOSTERS)
def test_a_booster_is_tuned_like_any_candidate_and_clones_with_its_parameters(name):
    frame = _table(600)
    y = _targets(frame)["binary"]
    spec = Model(name="m", candidates={name: {}}, tuning={"trials": 2}, cv_folds=3,
                 primary_metric="roc_auc", prefer_defaults=False, ensemble=False)  # fmt: skip
    result = tune(frame, y, ["a", "c"], ["c"], "binary", 2, spec, None)
    assert result.name == name and result.cv["cv_roc_auc_mean"] > 0.95
    pipe = build_pipeline(name, "binary", ["a"], ["c"], 0, result.params)
    assert clone(pipe).steps[-1][1].get_params() == pipe.steps[-1][1].get_params()


def test_a_booster_is_served_through_its_pipeline_not_compiled():
    frame = _table(400)
    y = _targets(frame)["binary"]
    pipe = fit(build_pipeline("xgboost", "binary", ["a"], ["c"], 0), frame, y)
    compiled, why = compile_one(pipe, "binary", ["a", "c"], ["c"], 2)
    assert compiled is None and "through the pipeline" in why


def test_a_booster_that_is_not_installed_is_named_before_any_fit(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "catboost" else real(n, *a)
    )
    spec = Model(name="m", candidates={"catboost": {}}, cv_folds=3, primary_metric="roc_auc")
    with pytest.raises(
        TrainingError, match=r"model.candidates.catboost: the catboost package is not installed"
    ):
        check_budget(100, np.array([0, 1] * 50), "binary", spec)
