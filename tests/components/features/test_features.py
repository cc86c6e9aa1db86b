"""Feature tables and the point-in-time training set, checked against a pandas merge_asof oracle."""

from __future__ import annotations

import pandas as pd
import pytest

from mlrig.components.config.schema import FeatureView
from mlrig.components.contract.acceptance import labelled
from mlrig.components.contract.contract import Contract
from mlrig.components.features.core import (
    assert_no_leakage,
    build_view_frame,
    feature_columns,
    model_inputs,
)
from mlrig.components.features.io import run as features_run
from mlrig.components.ingest.io import run as ingest_run
from mlrig.components.integrations.feast.feast_store import view_data_path
from mlrig.components.runtime import tables
from mlrig.components.runtime.catalog import EVENT_TS, TRAINING_SET
from mlrig.components.validate.io import run as validate_run
from tests.conftest import load_demo


def _cfg(views: list[FeatureView], entities: dict[str, str]):
    """A minimal config whose entities map name -> join key (for view builders)."""
    from types import SimpleNamespace

    ents = [SimpleNamespace(name=n, join_key=k) for n, k in entities.items()]
    return SimpleNamespace(features=SimpleNamespace(entities=ents, views=views), dataset=None)


def test_rolling_view_sees_only_outcomes_known_before_each_stamp():
    view = FeatureView(
        name="h", kind="rolling", table="f", entity="p", timestamp="known", windows=[2],
        features=["delay"],
    )  # fmt: skip
    frame = pd.DataFrame(
        {
            "plane": ["A", "A", "A", "B"],
            "known": pd.to_datetime(["2013-01-01T03:00Z", "2013-01-01T01:00Z", "2013-01-01T02:00Z",
                                     "2013-01-01T01:00Z"]),
            "delay": [30.0, 10.0, 20.0, 99.0],
        }
    )  # fmt: skip
    out = build_view_frame(_cfg([view], {"p": "plane"}), view, frame)
    a = out[out.plane == "A"].sort_values(EVENT_TS)
    assert a.delay_mean_last2.tolist() == [10.0, 15.0, 25.0]
    assert out[out.plane == "B"].delay_mean_last2.tolist() == [99.0]


def test_static_view_keeps_latest_row_per_key():
    view = FeatureView(name="s", kind="static", table="t", entity="e", features=["v"])
    cfg = _cfg([view], {"e": "k"})
    cfg.dataset = type("D", (), {"tables": {"t": type("T", (), {"all_columns": lambda self: {
        "k": "str", "v": "float"}})()}})()  # fmt: skip
    out = build_view_frame(cfg, view, pd.DataFrame({"k": ["a", "a", "b"], "v": [1, 2, 3]}))
    assert dict(zip(out.k, out.v, strict=True)) == {"a": 2.0, "b": 3.0}


def test_demo_model_inputs_hold_nothing_known_only_after_departure(demo_dir):
    cfg = load_demo(demo_dir).config
    inputs, _, _ = model_inputs(cfg)
    assert_no_leakage(cfg, inputs)
    for leaky in ("dep_time", "dep_delay", "arr_time", "air_time", "arr_delay"):
        assert leaky not in inputs
    with pytest.raises(ValueError, match="forbidden"):
        assert_no_leakage(cfg, [*inputs, "dep_delay"])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """ingest → validate → features on a 4,000-flight sample, with a real Feast repo."""
    folder = tmp_path_factory.mktemp("pit")
    loaded = load_demo(folder, sample_rows=4000)
    cfg_json = loaded.to_json()
    ingest_run(cfg_json, str(folder / "raw"))
    validate_run(cfg_json, str(folder / "raw"), str(folder / "val"), str(folder / "q"))
    features_run(cfg_json, str(folder / "val"), str(folder / "train"))
    return loaded, tables.read_tables(folder / "train")[TRAINING_SET], folder


def _oracle(loaded, fs, view, entity_df: pd.DataFrame) -> pd.DataFrame:
    """The run's own view tables (its snapshot), joined by pandas' merge_asof."""
    key = {e.name: e.join_key for e in loaded.config.features.entities}[view.entity]
    path = view_data_path(loaded.place, fs.version, view, fs.snapshot)
    feats = pd.read_parquet(path).sort_values(EVENT_TS)
    feats = feats.rename(columns={EVENT_TS: "_feature_ts"})
    feats["_feature_ts"] = feats["_feature_ts"].astype("datetime64[ns, UTC]")
    left = entity_df[[key, EVENT_TS]].reset_index().sort_values(EVENT_TS)
    left[EVENT_TS] = left[EVENT_TS].astype("datetime64[ns, UTC]")
    ttl = pd.Timedelta(hours=view.ttl_hours) if view.ttl_hours else None
    merged = pd.merge_asof(
        left, feats, left_on=EVENT_TS, right_on="_feature_ts", by=key,
        direction="backward", tolerance=ttl,
    )  # fmt: skip
    return merged.set_index("index").sort_index()


def test_training_set_matches_merge_asof_oracle_and_never_looks_ahead(built):
    loaded, training, folder = built
    every = tables.read_tables(folder / "val")["flights"]
    validated = labelled(every, loaded.config.dataset.target)  # cancelled flights: no target
    assert len(training) == len(validated) < len(every)
    entity_df = validated.assign(**{EVENT_TS: training[EVENT_TS]})
    assert (pd.to_datetime(validated.sched_dep, utc=True) == training[EVENT_TS]).all()
    fs = Contract.load(folder / "train").features
    for view in loaded.config.features.views:
        oracle = _oracle(loaded, fs, view, entity_df)
        if view.kind != "static":
            stamped = oracle["_feature_ts"].dropna()
            event = entity_df.loc[stamped.index, EVENT_TS].astype("datetime64[ns, UTC]")
            assert (stamped <= event).all(), view.name
        for bare in feature_columns(loaded.config, view):
            got, want = training[f"{view.name}__{bare}"], oracle[bare]
            if got.dtype == object:
                pd.testing.assert_series_equal(
                    got.fillna("<NA>"), want.fillna("<NA>").astype(object),
                    check_names=False, check_index=False,
                )  # fmt: skip
            else:
                pd.testing.assert_series_equal(
                    got.astype("float64"), want.astype("float64"),
                    check_names=False, check_index=False, atol=1e-9,
                )  # fmt: skip


def test_validation_quarantine_keeps_every_rejected_row(built):
    _, _, folder = built
    raw = tables.read_tables(folder / "raw")["flights"]
    accepted = tables.read_tables(folder / "val")["flights"]
    quarantined = pd.read_parquet(folder / "q" / "flights.parquet")
    assert len(accepted) + len(quarantined) == len(raw)
    assert quarantined["_reason"].notna().all()
