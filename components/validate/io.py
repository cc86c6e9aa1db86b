"""Validate stage I/O: typed tables out, rejected rows kept in a quarantine folder with a report."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from mlrig.components.config.loader import from_json
from mlrig.components.contract.acceptance import (
    TableReport,
    ValidationStop,
    accept_table,
    check_rejections,
    labelled,
)
from mlrig.components.contract.contract import label_classes
from mlrig.components.contract.timeutil import too_few_times
from mlrig.components.runtime import cache, events, tables
from mlrig.components.runtime.catalog import QUARANTINE_REPORT


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows hold whatever arrived; store them as text so nothing is lost to a cast."""
    return frame.astype("string")


@cache.stage("validate", inputs=("raw_dir",), outputs=("output_dir", "quarantine_dir"))
def run(config_json: str, raw_dir: str, output_dir: str, quarantine_dir: str) -> dict:
    """Validate every raw table; write accepted rows to output_dir and rejects to quarantine_dir."""
    loaded = from_json(config_json)
    ds = loaded.config.dataset
    raw = tables.read_tables(raw_dir)
    manifest = tables.read_manifest(raw_dir)
    accepted: dict[str, pd.DataFrame] = {}
    report: dict[str, dict] = {}
    qdir = Path(quarantine_dir)
    qdir.mkdir(parents=True, exist_ok=True)
    with events.stage("validate") as out:
        for name in ds.tables:
            ok, rejects, rep = accept_table(ds, name, raw[name], manifest["ingested_at"])
            parts = [_as_text(part) for part in rejects]
            pd.concat(parts, ignore_index=True).to_parquet(qdir / f"{name}.parquet", index=False)
            accepted[name] = ok
            report[name] = asdict(rep)
            out[name] = f"{rep.rows_ok} ok, {rep.rows_rejected} quarantined"
            if rep.rows_unlabelled:
                out[name] += f", {rep.rows_unlabelled} without a target (events, not learned from)"
        (qdir / QUARANTINE_REPORT).write_text(json.dumps(report, indent=2))
        for name in ds.tables:
            check_rejections(name, TableReport(**report[name]), ds.max_rejected_share)
        timestamp, folds = ds.event_timestamp, loaded.config.model.cv_folds
        read = [ds.target, *([timestamp] if timestamp else [])]  # a copy of these columns only
        learned = labelled(accepted[ds.main][read], ds.target)
        if learned.empty:
            raise ValidationStop(
                f"table '{ds.main}': no row has a target ('{ds.target}'); its "
                f"{len(accepted[ds.main])} rows are events whose labels have not come"
            )
        if ds.task == "classification":  # a positive label absent from the data stops here
            kind = ds.tables[ds.main].all_columns().get(ds.target)
            task, classes, _ = label_classes(learned[ds.target], ds.task, ds.positive_label, kind)
            out["classes"] = f"{task}: {', '.join(map(str, classes))}"
        few = too_few_times(learned[timestamp], folds) if timestamp else None
        if few:  # said before any feature work: the split cannot follow time
            out["split"] = f"random holdout and shuffled CV: {few}"
        tables.write_tables(
            output_dir,
            accepted,
            {"dataset_hash": manifest["dataset_hash"], "ingested_at": manifest["ingested_at"]},
        )
    return report
