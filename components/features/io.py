"""Features stage I/O: build the offline feature tables, register them in Feast, and retrieve
the point-in-time training set; and the closing step that materializes the online store."""

from __future__ import annotations

from mlrig.components.common import events, tables
from mlrig.components.config.loader import from_json
from mlrig.components.features import feast_store
from mlrig.components.features.core import (
    EVENT_TS,
    add_date_parts,
    assert_no_leakage,
    build_view_frame,
    entity_frame,
    model_inputs,
)
from mlrig.components.validate.io import INGESTED_AT

TRAINING_SET = "training_set"


def run(config_json: str, validated_dir: str, output_dir: str) -> dict:
    """Register features and write the training set (point-in-time joined) to output_dir."""
    loaded = from_json(config_json)
    cfg = loaded.config
    data = tables.read_tables(validated_dir)
    meta = tables.read_manifest(validated_dir)
    keys = {e.name: e.join_key for e in cfg.features.entities}
    with events.stage("features") as out:
        frames = {
            v.name: build_view_frame(v, data[v.table], keys[v.entity]) for v in cfg.features.views
        }
        store = feast_store.write_and_apply(loaded, frames)
        event_col = cfg.dataset.event_timestamp or INGESTED_AT
        entities = entity_frame(cfg, data[cfg.dataset.main], event_col)
        joined = feast_store.historical(store, cfg.features.service, entities)
        if cfg.dataset.date_parts:
            joined = add_date_parts(joined, cfg.dataset.date_parts)
        inputs = model_inputs(cfg)
        assert_no_leakage(cfg, inputs)
        training = joined[[EVENT_TS, *inputs, cfg.dataset.target]]
        tables.write_tables(
            output_dir,
            {TRAINING_SET: training},
            {
                "dataset_hash": meta["dataset_hash"],
                "feature_service": cfg.features.service,
                "inputs": inputs,
                "categorical": [c for c in inputs if training[c].dtype == object],
                "target": cfg.dataset.target,
                "task": cfg.dataset.task,
            },
        )
        out.update(
            {
                "views": {n: len(f) for n, f in frames.items()},
                "training_rows": len(training),
                "inputs": len(inputs),
            }
        )
    return {"rows": len(training), "inputs": inputs}


def publish(config_json: str) -> dict:
    """Materialize the latest feature values into the online store."""
    loaded = from_json(config_json)
    with events.stage("materialize") as out:
        out.update(feast_store.materialize(loaded))
    return out
