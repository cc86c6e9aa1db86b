"""The champion's metrics per time window once labels arrive, against its evaluation metrics."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, mean_absolute_error, roc_auc_score

from mlrig.components.contract.contract import Contract
from mlrig.components.contract.metrics import better


def window_metrics(logged: pd.DataFrame, contract: Contract, window: str) -> pd.DataFrame:
    """rows, and the metrics a log can give (ROC-AUC and accuracy for binary, accuracy for
    multiclass, RMSE and MAE for regression), per window of event time."""
    done = logged[logged.label.notna()].copy()
    if done.empty:
        return pd.DataFrame()
    done["when"] = pd.to_datetime(done.event_time.fillna(done.logged_at), utc=True, format="mixed")
    done["y"] = [json.loads(v) for v in done.label]
    pred = [json.loads(p) for p in done.prediction]
    done["p"] = [p.get("probability", np.nan) for p in pred]
    done["yhat"] = [p.get("prediction") for p in pred]
    period = done.when.dt.tz_localize(None).dt.to_period(window)
    rows = []
    for key, part in done.groupby(period):
        row: dict[str, Any] = {"window": str(key), "rows": len(part)}
        if contract.task == "regression":
            err = part.y.astype(float) - part.yhat.astype(float)
            row["rmse"] = float(np.sqrt(np.mean(err**2)))
            row["mae"] = float(mean_absolute_error(part.y.astype(float), part.yhat.astype(float)))
        else:
            truth = contract.encode(part.y)
            row["accuracy"] = float(accuracy_score(truth, contract.encode(part.yhat)))
            if contract.task == "binary" and 0 < truth.sum() < len(truth):
                row["roc_auc"] = float(roc_auc_score(truth, part.p.astype(float)))
        rows.append(row)
    return pd.DataFrame(rows)


def judge(
    windows: pd.DataFrame,
    reference: dict[str, float],
    metric: str,
    tolerance: float,
    min_rows: int,
) -> list[str]:
    """The windows (with enough rows) whose metric is worse than at evaluation by > tolerance."""
    if windows.empty:
        return []
    name = metric if metric in windows else "accuracy" if "accuracy" in windows else "rmse"
    base = reference.get(f"holdout_{name}")
    if base is None or name not in windows:
        return []
    out = []
    for row in windows.to_dict("records"):
        value = row.get(name)
        judged = row["rows"] >= min_rows and value is not None and np.isfinite(value)
        if judged and better(name, value, base) < -tolerance:
            out.append(f"{row['window']}: {name} {value:.4f} vs {base:.4f} at evaluation")
    return out
