"""What every section shares: the strict model base, column types, metric and candidate names."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

ColumnType = Literal["int", "float", "str", "bool", "datetime"]
Label = str | int | float | bool

# Metric names by task; multiclass uses macro averages under the same names.
CLASSIFICATION_METRICS = {"roc_auc", "accuracy", "precision", "recall", "f1", "log_loss"}
REGRESSION_METRICS = {"rmse", "mae", "r2"}
LOWER_IS_BETTER = {"rmse", "mae", "log_loss"}
DEFAULT_METRIC = {"classification": "roc_auc", "regression": "rmse"}
CANDIDATE_TASKS = {
    "logistic_regression": {"classification"},
    "ridge": {"regression"},
    "hist_gradient_boosting": {"classification", "regression"},
    "random_forest": {"classification", "regression"},
    "lightgbm": {"classification", "regression"},
    "xgboost": {"classification", "regression"},
    "catboost": {"classification", "regression"},
}
CandidateName = Literal[
    "logistic_regression",
    "ridge",
    "hist_gradient_boosting",
    "random_forest",
    "lightgbm",
    "xgboost",
    "catboost",
]
# Candidates whose library is an optional install (pip install "mlrig[learners]").
OPTIONAL_LEARNERS = {"xgboost": "xgboost", "catboost": "catboost"}
DEFAULT_CANDIDATES = {
    "classification": ["lightgbm", "logistic_regression", "random_forest"],
    "regression": ["lightgbm", "ridge", "random_forest"],
}
AGGREGATIONS = ("count", "sum", "mean", "min", "max")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
