"""Batch scoring: a file of request-shaped rows in, predictions by the champion out.

Features are joined point-in-time as of each row's event time from Feast's offline store.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mlrig.components.common import events, tracking
from mlrig.components.config.loader import from_json
from mlrig.components.evaluate.metrics import scores
from mlrig.components.features import feast_store
from mlrig.components.features.core import EVENT_TS, add_date_parts
from mlrig.components.ingest.sources import resolve_file
from mlrig.components.register.io import CHAMPION
from mlrig.components.score.core import as_model_frame, prepare_requests, request_columns
from mlrig.components.validate.core import validate_table

PREDICTIONS = "predictions.parquet"
REJECTED = "rejected.parquet"


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def run(config_json: str, input_path: str, output_dir: str) -> dict:
    """Validate the input rows, score the valid ones, keep the rejected ones with reasons."""
    loaded = from_json(config_json)
    cfg = loaded.config
    with events.stage("score") as out:
        raw = _read(resolve_file(input_path, loaded.root))
        ok, rejected, report = validate_table("input", raw, request_columns(cfg))
        mlflow = tracking.configure(loaded)
        version = mlflow.MlflowClient().get_model_version_by_alias(cfg.model.name, CHAMPION)
        model = mlflow.sklearn.load_model(f"models:/{cfg.model.name}@{CHAMPION}")
        inputs = list(model.feature_names_in_)
        prepared = prepare_requests(cfg, ok)
        ts_col = cfg.dataset.event_timestamp or next(
            n for n, k in cfg.serving.request_fields.items() if k == "datetime"
        )
        entity_df = prepared.assign(**{EVENT_TS: prepared[ts_col]})
        joined = feast_store.historical(
            feast_store.open_store(loaded), cfg.features.service, entity_df
        )
        if cfg.dataset.date_parts:
            joined = add_date_parts(joined, cfg.dataset.date_parts)
        result = prepared[[*cfg.serving.request_fields]].copy()
        result["score"] = scores(
            model, as_model_frame(joined, inputs), inputs, "", cfg.dataset.task
        )
        if cfg.dataset.task == "classification":
            result["prediction"] = (result["score"] >= 0.5).astype(int)
        result["model_version"] = int(version.version)
        dest = Path(output_dir)
        dest.mkdir(parents=True, exist_ok=True)
        result.to_parquet(dest / PREDICTIONS, index=False)
        rejected.astype("string").to_parquet(dest / REJECTED, index=False)
        summary = {"scored": len(result), "rejected": len(rejected), "reasons": report.reasons,
                   "model_version": int(version.version)}  # fmt: skip
        (dest / "summary.json").write_text(json.dumps(summary, indent=2))
        out.update(summary)
    return summary
