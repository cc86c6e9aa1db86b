"""Holdout and cross-validated metrics for classification and regression."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.model_selection import cross_validate

from mlrig.components.train.core import cv_splitter

CV_SCORING = {
    "classification": {
        "accuracy": "accuracy",
        "precision": "precision",
        "recall": "recall",
        "f1": "f1",
        "roc_auc": "roc_auc",
    },
    "regression": {
        "rmse": "neg_root_mean_squared_error",
        "mae": "neg_mean_absolute_error",
        "r2": "r2",
    },
}


def scores(
    model: Any, frame: pd.DataFrame, inputs: list[str], target: str, task: str
) -> np.ndarray:
    """Probability of the positive class (classification) or the prediction (regression)."""
    x = frame[inputs]
    return model.predict_proba(x)[:, 1] if task == "classification" else model.predict(x)


def holdout_metrics(y_true: np.ndarray, y_score: np.ndarray, task: str) -> dict[str, float]:
    """accuracy/precision/recall/F1/ROC-AUC at threshold 0.5, or RMSE/MAE/R²."""
    if task == "classification":
        y_pred = (y_score >= 0.5).astype(int)
        return {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "precision": float(precision_score(y_true, y_pred, zero_division=0)),
            "recall": float(recall_score(y_true, y_pred, zero_division=0)),
            "f1": float(f1_score(y_true, y_pred, zero_division=0)),
            "roc_auc": float(roc_auc_score(y_true, y_score)),
            "positive_rate": float(np.mean(y_true)),
        }
    return {
        "rmse": float(root_mean_squared_error(y_true, y_score)),
        "mae": float(mean_absolute_error(y_true, y_score)),
        "r2": float(r2_score(y_true, y_score)),
    }


def cv_metrics(
    model: Any,
    frame: pd.DataFrame,
    inputs: list[str],
    target: str,
    task: str,
    folds: int,
    seed: int,
) -> dict[str, float]:
    """k-fold CV of the chosen model's configuration: mean and std of each metric."""
    result = cross_validate(
        clone(model),
        frame[inputs],
        frame[target],
        cv=cv_splitter(task, folds, seed),
        scoring=CV_SCORING[task],
    )
    out: dict[str, float] = {}
    for name in CV_SCORING[task]:
        values = result[f"test_{name}"]
        values = -values if CV_SCORING[task][name].startswith("neg_") else values
        out[f"cv_{name}_mean"] = float(np.mean(values))
        out[f"cv_{name}_std"] = float(np.std(values))
    return out
