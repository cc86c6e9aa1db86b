"""AutoGluon's side of benchmarks/quality.py, run in AutoGluon's own environment:
fit `medium_quality` on FOLDER/train.parquet within SECONDS, write FOLDER/autogluon.parquet with
the test part's predictions (the positive class's probability for roc_auc).

    python quality_autogluon.py FOLDER TARGET METRIC SECONDS
"""

import sys
from pathlib import Path

import pandas as pd
from autogluon.tabular import TabularPredictor

folder, target, metric, seconds = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
train = pd.read_parquet(folder / "train.parquet")
test = pd.read_parquet(folder / "test.parquet").drop(columns=["row_id"])
problem = {"roc_auc": "binary", "accuracy": "multiclass", "rmse": "regression"}[metric]
eval_metric = {"roc_auc": "roc_auc", "accuracy": "accuracy", "rmse": "root_mean_squared_error"}
if problem != "regression":
    train[target] = train[target].astype(str)
predictor = TabularPredictor(
    label=target,
    problem_type=problem,
    eval_metric=eval_metric[metric],
    path=str(folder / "ag"),
    verbosity=0,
).fit(train, presets="medium_quality", time_limit=seconds)
positive = predictor.predict_proba(test)["1"] if metric == "roc_auc" else None
prediction = positive if positive is not None else predictor.predict(test)
pd.DataFrame({"prediction": prediction.to_numpy()}).to_parquet(folder / "autogluon.parquet")
