import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from mlrig.components.contract.contract import Contract
from mlrig.components.contract.metrics import better, holdout_metrics
from mlrig.components.evaluate import depth


def _case() -> tuple[LogisticRegression, pd.DataFrame, np.ndarray, Contract]:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(4000, 4)), columns=["strong", "weak", "none", "other"])
    logit = 2 * x["strong"] + 0.3 * x["weak"] + 0.5 * x["other"]
    y = (logit + rng.logistic(size=len(x)) > 0).astype(int).to_numpy()
    model = LogisticRegression().fit(x, y)
    contract = Contract(task="binary", target="y", request_fields={}, entity_keys={},
                        derivations=[], date_parts=None, event_time=None, timezone="UTC",
                        features=None, inputs=list(x.columns), classes=[0, 1])  # fmt: skip
    return model, x, y, contract


def _one_copy_at_a_time(model, holdout, y_true, contract, metric, seed) -> dict[str, float]:
    """Each shuffled copy scored by itself, drawing the same permutations in the same order."""
    rng = np.random.default_rng(seed)
    n = depth.importance_rows(len(holdout), len(contract.inputs))
    pick = rng.choice(len(holdout), size=n, replace=False)
    x, y = holdout.iloc[pick].reset_index(drop=True), y_true[pick]

    def value(frame: pd.DataFrame) -> float:
        return holdout_metrics(y, model.predict_proba(frame), "binary", only=metric)[metric]

    base, drops = value(x), {}
    for column in contract.inputs:
        losses = []
        for _ in range(depth.IMPORTANCE_REPEATS):
            shuffled = x.copy()
            shuffled[column] = shuffled[column].to_numpy()[rng.permutation(n)]
            losses.append(better(metric, base, value(shuffled)))
        drops[column] = float(np.mean(losses))
    return drops


def test_shuffled_copies_scored_in_batches_give_each_copys_own_drop(monkeypatch):
    model, x, y, contract = _case()
    monkeypatch.setattr(depth, "BATCH_ROWS", 7000)  # two copies of 3,000 rows a call
    ours = depth.permutation(model, x, y, contract, "roc_auc", seed=4)
    expected = _one_copy_at_a_time(model, x, y, contract, "roc_auc", seed=4)
    assert list(ours)[0] == "strong" and list(ours)[-1] == "none"
    assert ours == {c: f"{d:+.4f}" for c, d in sorted(expected.items(), key=lambda kv: -kv[1])}


def test_a_wide_tables_importance_shuffles_fewer_rows_and_a_narrow_ones_as_many_as_before():
    assert depth.importance_rows(900, 301) == 150  # 301 inputs: at least 150 rows
    assert depth.importance_rows(10_000, 28) == 3000  # the demo's 28 inputs: as before
    assert depth.importance_rows(10_000, 100) == 1000  # 30M cells / (100 x 100 x 3)
    assert depth.importance_rows(120, 301) == 120  # never more than the holdout has
