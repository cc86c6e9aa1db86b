"""Performance before labels for regression: direct loss estimation (as NannyML's DLE).

On the holdout, a second model learns how large the first one's errors are from the inputs and
the prediction: one LightGBM for |y - ŷ|, one for (y - ŷ)². On served rows that have no label
yet, the mean of its predicted absolute errors estimates the MAE, and the root of the mean of
its predicted squared errors the RMSE. Where errors depend on the inputs (a model sure of some
rows and unsure of others), a shift of traffic towards the unsure rows shows before the labels
come; an error that depends on nothing the model sees (a change of the world) does not.

The estimator is plain JSON (LightGBM boosters as text, each categorical input's levels) kept
beside the evaluation: nothing is unpickled to read it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.contract.contract import Contract

LOSS_FILE = "loss_model.json"
MIN_ROWS = 50  # fewer holdout rows: no estimator
PREDICTED = "__prediction__"
PARAMS = {"n_estimators": 100, "learning_rate": 0.05, "num_leaves": 15, "min_child_samples": 20,
          "subsample": 0.8, "subsample_freq": 1, "verbose": -1, "deterministic": True,
          "force_col_wise": True, "n_jobs": 1}  # fmt: skip


def fit_loss_model(
    inputs: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray, contract: Contract, seed: int
) -> dict[str, Any] | None:
    """The estimator of a regression model's errors, fitted on its holdout (None for other
    tasks, or below MIN_ROWS rows). Free-text inputs are left out."""
    if contract.task != "regression" or len(inputs) < MIN_ROWS:
        return None
    import lightgbm

    columns = [c for c in contract.inputs if c not in contract.text]
    levels = {
        c: sorted({str(v) for v in inputs[c].dropna()})
        for c in columns
        if c in contract.categorical
    }
    x = _design(inputs, y_pred, columns, levels)
    error = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    boosters = {}
    for name, target in (("abs", np.abs(error)), ("squared", error**2)):
        model = lightgbm.LGBMRegressor(random_state=seed, **PARAMS).fit(x, target)
        boosters[name] = model.booster_.model_to_string()
    return {"columns": columns, "levels": levels, "boosters": boosters}


def estimated_loss(model: dict[str, Any], inputs: pd.DataFrame, y_pred: Any) -> dict[str, float]:
    """Estimated MAE and RMSE of rows (their inputs by name, their predictions)."""
    import lightgbm

    if len(inputs) == 0:
        return {}
    x = _design(inputs, y_pred, model["columns"], model["levels"])
    guess = {
        name: np.clip(lightgbm.Booster(model_str=text).predict(x), 0.0, None)
        for name, text in model["boosters"].items()
    }
    return {
        "estimated_mae": float(np.mean(guess["abs"])),
        "estimated_rmse": float(np.sqrt(np.mean(guess["squared"]))),
    }


def _design(
    inputs: pd.DataFrame, y_pred: Any, columns: list[str], levels: dict[str, list[str]]
) -> pd.DataFrame:
    """The estimator's columns: numbers as floats, categories with the holdout's levels (an
    unseen level is missing), and the prediction."""
    data: dict[str, Any] = {}
    for column in columns:
        values = inputs[column] if column in inputs else pd.Series(np.nan, index=inputs.index)
        if column in levels:
            text = values.astype(object).where(values.notna(), None)
            text = text.map(lambda v: None if v is None else str(v))
            data[column] = pd.Categorical(text, categories=levels[column])
        else:
            data[column] = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    data[PREDICTED] = np.asarray(y_pred, dtype="float64")
    return pd.DataFrame(data, index=inputs.index)
