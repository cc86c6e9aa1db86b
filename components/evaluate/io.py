"""Evaluate stage I/O: holdout + k-fold CV metrics and an HTML report, logged to the run."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from mlrig.components.common import events, tables, tracking
from mlrig.components.common import html_report as report
from mlrig.components.config.loader import from_json
from mlrig.components.evaluate.metrics import cv_metrics, holdout_metrics, scores
from mlrig.components.train.io import HOLDOUT, read_run

METRICS_FILE = "metrics.json"
REPORT_FILE = "evaluation.html"


def run(config_json: str, model_dir: str, holdout_dir: str, output_dir: str) -> dict:
    """Score the holdout (later events than training) and cross-validate on the training sample."""
    loaded = from_json(config_json)
    cfg = loaded.config
    info = read_run(model_dir)
    data = tables.read_tables(holdout_dir)
    holdout, train_sample = data[HOLDOUT], data["train_sample"]
    inputs, target, task = info["inputs"], info["target"], info["task"]
    with events.stage("evaluate") as out:
        mlflow = tracking.configure(loaded)
        model = mlflow.sklearn.load_model(info["model_uri"])
        y_score = scores(model, holdout, inputs, target, task)
        y_true = holdout[target].to_numpy()
        metrics = {f"holdout_{k}": v for k, v in holdout_metrics(y_true, y_score, task).items()}
        metrics.update(
            cv_metrics(
                model,
                train_sample,
                inputs,
                target,
                task,
                cfg.model.cv_folds,
                cfg.model.random_state,
            )
        )
        plots = (
            report.classification_plots(y_true, y_score)
            if task == "classification"
            else report.regression_plots(y_true, y_score)
        )
        page = report.render(
            f"{cfg.project}: evaluation of {info['candidate']}",
            {
                "Model": {"candidate": info["candidate"], **info["params"], "run": info["run_id"]},
                f"Holdout (events from {info['holdout_from']})": {
                    k[8:]: v for k, v in metrics.items() if k.startswith("holdout_")
                },
                f"{cfg.model.cv_folds}-fold CV on the training sample": {
                    k[3:]: v for k, v in metrics.items() if k.startswith("cv_")
                },
            },
            plots,
        )
        dest = Path(output_dir)
        dest.mkdir(parents=True, exist_ok=True)
        (dest / METRICS_FILE).write_text(json.dumps(metrics, indent=2))
        (dest / REPORT_FILE).write_text(page)
        for name, encoded in plots.items():  # also as images, which the MLflow UI previews
            (dest / f"{name}.png").write_bytes(base64.b64decode(encoded))
        with mlflow.start_run(run_id=info["run_id"]):
            mlflow.log_metrics(metrics)
            mlflow.log_artifacts(str(dest), "evaluation")
        key = f"holdout_{cfg.model.primary_metric}"
        out.update(
            {key: round(metrics.get(key, float("nan")), 4), "report": str(dest / REPORT_FILE)}
        )
    return metrics


def read_metrics(evaluation_dir: str) -> dict:
    return json.loads((Path(evaluation_dir) / METRICS_FILE).read_text())
