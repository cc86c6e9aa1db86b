"""The champion's metrics per time window once labels arrive, against its evaluation metrics."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, roc_auc_score

from mlrig.components.contract.contract import Contract
from mlrig.components.contract.loss_model import estimated_loss
from mlrig.components.contract.metrics import better
from mlrig.components.monitor.estimate import estimated
from mlrig.components.monitor.predlog import features_of


def window_metrics(
    logged: pd.DataFrame, contract: Contract, window: str, loss: dict[str, Any] | None = None
) -> pd.DataFrame:
    """rows, and the metrics a log can give (ROC-AUC and accuracy for binary, accuracy for
    multiclass, RMSE and MAE for regression), per window of event time, from the labelled rows;
    a binary model's windows also get ROC-AUC, accuracy and F1 estimated from the probabilities
    of every row, labelled or not (estimate.py), a regression's RMSE and MAE estimated by its
    loss model (contract/loss_model.py; `logged` then holds the features), and how many rows
    those were."""
    if logged.empty:
        return pd.DataFrame()
    rows = logged.copy()
    rows["when"] = pd.to_datetime(rows.event_time.fillna(rows.logged_at), utc=True, format="mixed")
    period = rows.when.dt.tz_localize(None).dt.to_period(window)
    labelled = "label" in rows
    out = []
    for key, part in rows.groupby(period):
        done = part[part.label.notna()] if labelled else part.iloc[:0]
        row: dict[str, Any] = {"window": str(key), "rows": len(done)}
        if len(done):
            row.update(_realized(done, contract))
        if contract.task == "binary":
            p = [json.loads(v).get("probability", np.nan) for v in part.prediction]
            row.update(estimated(np.asarray(p, dtype=float), contract.threshold))
            row["estimated_rows"] = len(part)
        elif loss is not None:
            values = [json.loads(v).get("prediction", np.nan) for v in part.prediction]
            row.update(estimated_loss(loss, features_of(part), np.asarray(values, dtype=float)))
            row["estimated_rows"] = len(part)
        if len(done) or "estimated_rows" in row:
            out.append(row)
    return pd.DataFrame(out)


def _realized(done: pd.DataFrame, contract: Contract) -> dict[str, float]:
    y = [json.loads(v) for v in done.label]
    pred = [json.loads(p) for p in done.prediction]
    yhat = [p.get("prediction") for p in pred]
    if contract.task == "regression":
        err = np.asarray(y, dtype=float) - np.asarray(yhat, dtype=float)
        return {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err)))}
    truth = contract.encode(pd.Series(y, index=done.index))
    out = {
        "accuracy": float(accuracy_score(truth, contract.encode(pd.Series(yhat, index=done.index))))
    }
    if contract.task == "binary" and 0 < truth.sum() < len(truth):
        p = np.asarray([v.get("probability", np.nan) for v in pred], dtype=float)
        out["roc_auc"] = float(roc_auc_score(truth, p))
    return out


def judge(
    windows: pd.DataFrame,
    reference: dict[str, float],
    metric: str,
    tolerance: float,
    min_rows: int,
    use_estimates: bool = False,
) -> list[str]:
    """The windows (with enough rows) whose metric is worse than at evaluation by > tolerance;
    use_estimates: a window without enough labelled rows is judged by its estimate (a binary
    model whose probabilities were calibrated on the holdout)."""
    if windows.empty:
        return []
    name = metric if metric in windows else "accuracy" if "accuracy" in windows else "rmse"
    if name not in windows and use_estimates and f"estimated_{metric}" in windows:
        name = metric
    base = reference.get(f"holdout_{name}")
    if base is None:
        return []
    out = []
    for row in windows.to_dict("records"):
        value = row.get(name)
        if row["rows"] >= min_rows and _finite(value):
            if better(name, value, base) < -tolerance:
                out.append(f"{row['window']}: {name} {value:.4f} vs {base:.4f} at evaluation")
            continue
        guess = row.get(f"estimated_{name}")
        enough = row.get("estimated_rows", 0) >= min_rows
        if use_estimates and enough and _finite(guess) and better(name, guess, base) < -tolerance:
            out.append(
                f"{row['window']}: estimated {name} {guess:.4f} vs {base:.4f} at evaluation "
                "(before labels)"
            )
    return out


def _finite(value: Any) -> bool:
    return value is not None and bool(np.isfinite(value))
