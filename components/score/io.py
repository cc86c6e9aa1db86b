"""Batch scoring: a file of request-shaped rows in, predictions by the pinned champion out.

The champion alias is resolved once; that version's contract validates the rows and assembles
their features point-in-time (as of each row's event time) from Feast's offline store.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlrig.components.common import events, feast_store, tables, tracking
from mlrig.components.common.assemble import assemble
from mlrig.components.common.catalog import (
    CHAMPION,
    PREDICTIONS_FILE,
    REJECTED_FILE,
    SUMMARY_FILE,
)
from mlrig.components.common.predict import predict_frame
from mlrig.components.common.registry import load_alias
from mlrig.components.config.loader import from_json
from mlrig.components.ingest.sources import resolve_file
from mlrig.components.score.core import conform, request_columns
from mlrig.components.validate.core import validate_table


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def run(config_json: str, input_path: str, output_dir: str) -> dict:
    """Validate the input rows, score the valid ones, keep the rejected ones with reasons."""
    loaded = from_json(config_json)
    cfg = loaded.config
    with events.stage("score") as out:
        mlflow = tracking.configure(loaded)
        champ = load_alias(mlflow, cfg.model.name, CHAMPION)
        contract = champ.contract
        raw = conform(contract, _read(resolve_file(input_path, loaded.root)), [])
        ok, rejected, report = validate_table(
            "input", raw, request_columns(contract), contract.timezone
        )
        store = feast_store.open_store(loaded)
        built = assemble(contract, ok, feast_store.OfflineFeatures(store))
        result = ok[list(contract.request_fields)].copy()
        predicted = predict_frame(champ.model, contract, built.frame)
        result = pd.concat([result, predicted], axis=1)
        result["missing_features"] = built.missing.sum(axis=1).astype(int).to_numpy()
        result["model_version"] = champ.version
        dest = Path(output_dir)
        dest.mkdir(parents=True, exist_ok=True)
        result.to_parquet(dest / PREDICTIONS_FILE, index=False)
        rejected.astype("string").to_parquet(dest / REJECTED_FILE, index=False)
        summary = {"scored": len(result), "rejected": len(rejected), "reasons": report.reasons,
                   "model_version": champ.version}  # fmt: skip
        tables.write_json(dest, SUMMARY_FILE, summary)
        out.update(summary)
    return summary
