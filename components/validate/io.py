"""Validate stage I/O: typed tables out, rejected rows kept in a quarantine folder with a report."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from mlrig.components.common import cache, events, tables
from mlrig.components.common.catalog import INGESTED_AT, QUARANTINE_REPORT, REASON
from mlrig.components.common.contract import label_classes
from mlrig.components.common.derive import apply_derivations
from mlrig.components.config.loader import from_json
from mlrig.components.config.schema import FileSource
from mlrig.components.validate.core import (
    TableReport,
    check_rejections,
    require_present,
    validate_table,
)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows hold whatever arrived; store them as text so nothing is lost to a cast."""
    return frame.astype("string")


@cache.stage(
    "validate", inputs=("raw_dir",), outputs=("output_dir", "quarantine_dir"), sections=cache.BASE
)
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
        for name, spec in ds.tables.items():
            decimal = spec.source.decimal if isinstance(spec.source, FileSource) else "."
            ok, rejected, rep = validate_table(
                name, raw[name], spec.columns, ds.timezone, decimal=decimal
            )
            ok = apply_derivations(ok, spec.derive)
            extra_rejects: list[pd.DataFrame] = []
            if name == ds.main:
                if ds.event_timestamp is None:
                    ok[INGESTED_AT] = pd.Timestamp(manifest["ingested_at"])
                else:
                    ok, rej = require_present(ok, ds.event_timestamp, "event timestamp")
                    extra_rejects.append(rej)
                ok, rej = require_present(ok, ds.target, "target")
                extra_rejects.append(rej)
            for rej in extra_rejects:
                for reason, n in rej[REASON].value_counts().items():
                    rep.reasons[str(reason)] = rep.reasons.get(str(reason), 0) + int(n)
                rep.rows_rejected += len(rej)
                rep.rows_ok -= len(rej)
            parts = [_as_text(part) for part in (rejected, *extra_rejects)]
            pd.concat(parts, ignore_index=True).to_parquet(qdir / f"{name}.parquet", index=False)
            accepted[name] = ok
            report[name] = asdict(rep)
            out[name] = f"{rep.rows_ok} ok, {rep.rows_rejected} quarantined"
        (qdir / QUARANTINE_REPORT).write_text(json.dumps(report, indent=2))
        for name in ds.tables:
            check_rejections(name, TableReport(**report[name]), ds.max_rejected_share)
        if ds.task == "classification":  # a positive label absent from the data stops here
            kind = ds.tables[ds.main].all_columns().get(ds.target)
            task, classes, _ = label_classes(accepted[ds.main][ds.target], ds.task,
                                             ds.positive_label, kind)  # fmt: skip
            out["classes"] = f"{task}: {', '.join(map(str, classes))}"
        tables.write_tables(
            output_dir,
            accepted,
            {"dataset_hash": manifest["dataset_hash"], "ingested_at": manifest["ingested_at"]},
        )
    return report
