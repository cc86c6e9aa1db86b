"""EDA stage I/O: profile the training set into an HTML report, logged to MLflow."""

from __future__ import annotations

from pathlib import Path

from mlrig.components.config.loader import from_json
from mlrig.components.contract.contract import Contract
from mlrig.components.eda.core import numeric_table, plots, summary
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.runtime import cache, events, tables
from mlrig.components.runtime.catalog import TRAINING_SET
from mlrig.components.runtime.html_report import render


@cache.stage("eda", inputs=("training_dir",), outputs=("report_path",))
def run(config_json: str, training_dir: str, report_path: str) -> dict:
    """Write the EDA report to report_path and log it in an MLflow run tagged with the data hash."""
    loaded = from_json(config_json)
    meta = tables.read_manifest(training_dir)
    frame = tables.read_tables(training_dir)[TRAINING_SET]
    contract = Contract.load(training_dir)
    inputs, target, task = contract.inputs, contract.target, loaded.config.dataset.task
    with events.stage("eda") as out:
        head = summary(frame, target, task)
        page = render(
            f"{loaded.config.project}: training set profile",
            {"Overview": head, "Numeric inputs": numeric_table(frame, inputs)},
            plots(frame, inputs, target, task, contract.text),
        )
        path = Path(report_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page)
        mlflow = tracking.configure(loaded.place)
        with mlflow.start_run(run_name=f"{loaded.config.project}-eda"):
            mlflow.set_tags({"mlrig.stage": "eda", "mlrig.dataset_hash": meta["dataset_hash"]})
            mlflow.log_artifact(str(path), "eda")
        out.update({"rows": head["rows"], "report": str(path)})
    return head
