import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from mlrig.components.train.core import build_pipeline, fit
from mlrig.components.train.linear import NEWTON_MAX_WIDTH, solver_for


def _rows(n: int = 3000, classes: int = 2) -> tuple[pd.DataFrame, np.ndarray]:
    """Correlated, unevenly scaled numbers with gaps and a categorical: what L-BFGS is slow on."""
    rng = np.random.default_rng(3)
    base = rng.normal(size=n)
    x = pd.DataFrame(
        {
            "a": base * 1000 + rng.normal(size=n),
            "b": base + 0.01 * rng.normal(size=n),
            "c": rng.exponential(5, n),
            "kind": pd.Categorical(rng.choice(["x", "y", "z", "w"], n)),
        }
    )
    x.loc[rng.random(n) < 0.1, "c"] = np.nan
    logits = base + (x["kind"] == "y") - 0.1 * x["c"].fillna(0)
    edges = np.quantile(logits, np.linspace(0, 1, classes + 1)[1:-1])
    return x, np.searchsorted(edges, logits + rng.logistic(size=n))


def test_a_narrow_model_is_solved_by_newtons_method_and_a_wide_one_by_lbfgs():
    assert solver_for(70, 2) == "newton-cholesky"
    assert solver_for(NEWTON_MAX_WIDTH, 2) == "newton-cholesky"
    assert solver_for(NEWTON_MAX_WIDTH + 1, 2) == "lbfgs"
    assert solver_for(40, 3) == "newton-cholesky"  # 120 outputs' worth
    assert solver_for(70, 3) == "lbfgs"  # three outputs of 70 columns


def _pipe(task: str):
    return build_pipeline("logistic_regression", task, ["a", "b", "c"], ["kind"], 0, {"C": 2.0})


def _penalised_loss(model: LogisticRegression, encoded: np.ndarray, y: np.ndarray) -> float:
    p = model.predict_proba(encoded)[np.arange(len(y)), y]
    return float(-np.log(p).sum() + 0.5 / model.C * (model.coef_**2).sum())


def test_newtons_method_gets_nearer_the_penalised_optimum_than_lbfgs_does_by_default():
    for classes, task in ((2, "binary"), (3, "multiclass")):
        x, y = _rows(classes=classes)
        ours = fit(_pipe(task), x, y)
        assert ours[-1].solver == "newton-cholesky"
        encoded = ours[:-1].transform(x)
        exact = LogisticRegression(C=2.0, tol=1e-10, max_iter=100_000).fit(encoded, y)
        usual = LogisticRegression(C=2.0, max_iter=1000).fit(encoded, y)
        np.testing.assert_allclose(ours.predict_proba(x), exact.predict_proba(encoded), atol=1e-3)
        gap = _penalised_loss(ours[-1], encoded, y) - _penalised_loss(exact, encoded, y)
        assert (
            0
            <= gap
            < 1e-3
            < _penalised_loss(usual, encoded, y) - _penalised_loss(exact, encoded, y)
        )


def test_the_fitted_pipeline_predicts_from_raw_rows_like_any_other():
    x, y = _rows()
    model = fit(_pipe("binary"), x, y)
    assert list(model.classes_) == [0, 1]
    assert model.predict_proba(x.head(5)).shape == (5, 2)
    assert model[-1].n_iter_[0] < 20  # newton: a handful of steps
