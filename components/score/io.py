"""Batch scoring: a file of request-shaped rows in, predictions by the pinned champion out.

The champion alias is resolved once; that version's contract validates the rows and assembles
their features point-in-time (as of each row's event time) from Feast's offline store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlrig.components.common import cpus, events, feast_store, tables, tracking
from mlrig.components.common.assemble import assemble
from mlrig.components.common.catalog import (
    CHAMPION,
    PREDICTIONS_FILE,
    REJECTED_FILE,
    SUMMARY_FILE,
)
from mlrig.components.common.contract import Contract
from mlrig.components.common.predict import predict_frame
from mlrig.components.common.registry import Pinned, load_alias
from mlrig.components.config.loader import LoadedConfig, from_json
from mlrig.components.config.schema import FileSource
from mlrig.components.ingest.sources import read_source
from mlrig.components.score.core import BatchError, conform, request_columns
from mlrig.components.validate.core import validate_table


def _read(input_path: str, loaded: LoadedConfig, contract: Contract) -> pd.DataFrame:
    """The rows to score, read as ingest reads a file (CSV, parquet or JSON records): the text
    and time fields stay text, so codes such as zip "01003" keep their zeros (read as numbers
    they would be categories the model never saw)."""
    text = [n for n, spec in contract.request_fields.items() if spec["type"] in ("str", "datetime")]
    return read_source("input", FileSource(kind="file", path=input_path), loaded.root, text)


@dataclass
class Scored:
    result: pd.DataFrame  # request fields, predictions, missing_features, model_version
    inputs: pd.DataFrame  # the model inputs the one assemble step produced, row for row
    rejected: pd.DataFrame
    reasons: dict


def score_frame(
    loaded: LoadedConfig, champ: Pinned, frame: pd.DataFrame, passthrough: list[str] | None = None
) -> Scored:
    """Validate request-shaped rows by the pinned version's contract and score the valid ones
    with features as of each row's event time (Feast's offline store). Passthrough columns (a
    row id) go to the output untouched, in front."""
    contract = champ.contract
    keep = [c for c in passthrough or [] if c not in contract.request_fields]
    missing = [c for c in keep if c not in frame]
    if missing:
        raise BatchError(f"passthrough columns {missing} are not in the input")
    raw = conform(contract, frame, keep)
    ok, rejected, report = validate_table(
        "input", raw, request_columns(contract), contract.timezone, keep
    )
    store = feast_store.open_store(loaded)
    built = assemble(contract, ok, feast_store.OfflineFeatures(store))
    result = ok[[*keep, *contract.request_fields]].reset_index(drop=True)
    predicted = predict_frame(champ.model, contract, built.frame)
    result = pd.concat([result, predicted.reset_index(drop=True)], axis=1)
    result["missing_features"] = built.missing.sum(axis=1).astype(int).to_numpy()
    result["model_version"] = champ.version
    return Scored(result, built.frame.reset_index(drop=True), rejected, report.reasons)


def run(config_json: str, input_path: str, output_dir: str) -> dict:
    """Validate the input rows, score the valid ones, keep the rejected ones with reasons."""
    loaded = from_json(config_json)
    cfg = loaded.config
    with events.stage("score") as out:
        out["threads"] = cpus.limit(cpus.available())  # the CPUs this pod or process is given
        mlflow = tracking.configure(loaded)
        champ = load_alias(mlflow, cfg.model.name, CHAMPION)
        scored = score_frame(loaded, champ, _read(input_path, loaded, champ.contract))
        dest = Path(output_dir)
        dest.mkdir(parents=True, exist_ok=True)
        scored.result.to_parquet(dest / PREDICTIONS_FILE, index=False)
        scored.rejected.astype("string").to_parquet(dest / REJECTED_FILE, index=False)
        summary = {"scored": len(scored.result), "rejected": len(scored.rejected),
                   "reasons": scored.reasons, "model_version": champ.version}  # fmt: skip
        tables.write_json(dest, SUMMARY_FILE, summary)
        out.update(summary)
    return summary
