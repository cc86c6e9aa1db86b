"""Ingest stage I/O: read every configured table, snapshot it with content hashes."""

from __future__ import annotations

from datetime import UTC, datetime

from mlrig.components.config.loader import from_json
from mlrig.components.ingest.core import content_hash, dataset_hash, sample
from mlrig.components.runtime import events, tables
from mlrig.components.sources.readers import read_source


def run(config_json: str, output_dir: str) -> dict:
    """Read the sources into output_dir (parquet + manifest); return the manifest summary."""
    loaded = from_json(config_json)
    ds = loaded.config.dataset
    with events.stage("ingest") as out:
        frames = {}
        for name, table in ds.tables.items():
            text = [c for c, spec in table.columns.items() if spec.type == "str"]
            frame = read_source(name, table.source, loaded.root, text)
            if name == ds.main:
                frame = sample(frame, ds.sample_rows, loaded.config.model.random_state)
            frames[name] = frame
        hashes = {name: content_hash(f) for name, f in frames.items()}
        meta = {
            "dataset_hash": dataset_hash(hashes),
            "ingested_at": datetime.now(UTC).isoformat(),
            "tables": {n: {"sha256": h} for n, h in hashes.items()},
        }
        tables.write_tables(output_dir, frames, meta)
        out.update({n: len(f) for n, f in frames.items()})
        out["dataset_hash"] = meta["dataset_hash"][:12]
    return meta
