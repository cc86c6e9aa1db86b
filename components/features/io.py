"""Features stage I/O: build the offline feature tables, register them in Feast as a new
feature-set version, and assemble the point-in-time training set through the model's contract."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlrig.components.config.loader import from_json
from mlrig.components.config.place import Place
from mlrig.components.config.schema import Config
from mlrig.components.contract.acceptance import labelled
from mlrig.components.contract.assemble import assemble, prepare
from mlrig.components.contract.contract import Contract, FeatureSet, draft
from mlrig.components.contract.timeutil import to_utc
from mlrig.components.features.core import (
    assert_no_leakage,
    build_view_frame,
    feature_columns,
    model_inputs,
    text_inputs,
    zero_if_missing,
)
from mlrig.components.features.refresh import refresh
from mlrig.components.integrations.feast.feast_store import (
    LIVE_CHAMPION_FILE,
    OfflineFeatures,
    apply_feature_set,
    live_feature_set,
    materialize,
)
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.integrations.mlflow.registry import load_contract
from mlrig.components.runtime import cache, events, tables
from mlrig.components.runtime.catalog import EVENT_TS, INGESTED_AT, TRAINING_SET


@cache.stage("features", inputs=("validated_dir",), outputs=("output_dir",))
def run(config_json: str, validated_dir: str, output_dir: str) -> dict:
    """Register features and write the training set (point-in-time joined) plus the drafted
    contract to output_dir."""
    loaded = from_json(config_json)
    cfg = loaded.config
    data = tables.read_tables(validated_dir)
    meta = tables.read_manifest(validated_dir)
    with events.stage("features") as out:
        inputs, categorical, recency = model_inputs(cfg)
        assert_no_leakage(cfg, inputs)
        store, feature_set, snapshot, sizes = _register(cfg, loaded.place, data, recency)
        contract = draft(cfg, feature_set)
        contract.inputs, contract.categorical = inputs, categorical
        contract.text = text_inputs(cfg)
        rows = _training_rows(cfg, contract, data.pop(cfg.dataset.main), out)
        del data  # the views' tables are written: from here on only the rows are needed
        built = assemble(contract, rows, OfflineFeatures(store, read_as=snapshot), prepared=True)
        training = built.frame
        del built
        request_cols = [c for c in contract.request_fields if c in rows]
        for col in dict.fromkeys([*request_cols, EVENT_TS, cfg.dataset.target]):
            if col not in training:
                training[col] = rows[col].to_numpy()
        tables.write_tables(
            output_dir,
            {TRAINING_SET: training},
            {
                "dataset_hash": meta["dataset_hash"],
                "feature_set": feature_set.version,
                "snapshot": feature_set.snapshot,
                "sampled": bool(cfg.dataset.sample_rows),
            },
        )
        contract.save(output_dir)
        out.update(
            {
                "feature_set": feature_set.version,
                "snapshot": feature_set.snapshot,
                "views": sizes,
                "training_rows": len(training),
                "inputs": len(inputs),
            }
        )
    return {"rows": len(training), "inputs": inputs}


def _register(
    cfg: Config, place: Place, data: dict[str, pd.DataFrame], recency: dict[str, str]
) -> tuple[Any, FeatureSet, FeatureSet, dict[str, int]]:
    """Build every view's table, register them as a feature set; (store, the set, the run's
    snapshot of it, each view's rows). The tables are written and let go here."""
    frames = {v.name: build_view_frame(cfg, v, data[v.table]) for v in cfg.features.views}
    store, feature_set, snapshot = apply_feature_set(
        cfg,
        place,
        frames,
        {v.name: feature_columns(cfg, v) for v in cfg.features.views},
        recency,
        zero_if_missing(cfg),
    )
    return store, feature_set, snapshot, {n: len(f) for n, f in frames.items()}


def _training_rows(cfg: Config, contract: Contract, main: pd.DataFrame, out: dict) -> pd.DataFrame:
    """The main table's rows with a target (the others are events the views counted) as a
    request sends them (prepared), with the target, cut at dataset.until. Only the columns the
    contract or the target name are kept: the training set needs no others, and on ten million
    rows each one costs up to a gigabyte."""
    wanted = {*contract.request_fields, *(d["name"] for d in contract.derivations)}
    wanted |= {cfg.dataset.target, contract.event_time, EVENT_TS, INGESTED_AT}
    if contract.date_parts:
        wanted.add(contract.date_parts["column"])
    kept = main[[c for c in main.columns if c in wanted]]  # then the rows: a copy of these only
    rows = prepare(contract, labelled(kept, cfg.dataset.target))
    until = until_of(cfg)
    if until is not None:  # a backtest: only events before `until` are learned from
        rows = rows[rows[EVENT_TS] < until].reset_index(drop=True)
        out["until"] = str(until)
        if rows.empty:
            raise ValueError(f"dataset.until: no event of '{cfg.dataset.main}' before {until}")
    return rows


def until_of(cfg: Config) -> pd.Timestamp | None:
    """dataset.until as a UTC time: the moment a backtest, a replay or a simulation stands at."""
    if not cfg.dataset.until:
        return None
    return to_utc(pd.Series([cfg.dataset.until]), cfg.dataset.timezone).iloc[0]


def publish(config_json: str, champion_version: int) -> dict:
    """Make the champion's feature set live in the online store. The set of a version that was
    not promoted is never materialized, so the serving champion's online values stay as they
    are. A new champion whose definitions are the live set's brings the data up to its sources
    (refresh.py), so it serves today's values; a run that did not change the champion leaves the
    live data alone (`mlrig features materialize` and its CronJob refresh it). A run cut at
    dataset.until loads the online store up to that moment, never past it: a backtest's or a
    replay's champion does not serve values from its own future."""
    loaded = from_json(config_json)
    cfg = loaded.config
    until = until_of(cfg)
    end = None if until is None else until.to_pydatetime()
    with events.stage("materialize") as out:
        if not champion_version:
            out["feature_set"] = "none (no champion yet)"
            return dict(out)
        mlflow = tracking.configure(loaded.place)
        fs = load_contract(mlflow, cfg.model.name, champion_version).features
        if fs is None or not fs.views:
            out["feature_set"] = "none (no feature views)"
            return dict(out)
        live = live_feature_set(loaded.place)
        marker = loaded.path(cfg.stores.feature_data_dir) / LIVE_CHAMPION_FILE
        published = marker.read_text().strip() if marker.exists() else ""
        if live is not None and live.version == fs.version:
            out.update({"feature_set": fs.version, "already_live": True})
            if published != str(champion_version):  # a new champion: its data up to now
                done = refresh(loaded, now=end)
                out["new_rows"] = {n: t["new_rows"] for n, t in done["tables"].items()}
            # else a run that lost, was sampled or failed: the live data stays as it is
        else:
            out.update(materialize(loaded.place, cfg.features, fs, end=end))
        marker.write_text(str(champion_version))
        out["champion_version"] = champion_version
    return dict(out)
