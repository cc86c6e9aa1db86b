"""Feast's Spark offline store gives the training set the DuckDB store gives, row for row, on the
shop (an aggregate view over events with windows and recency, a static view on a composite key)
and a flights sample (static, time-series and rolling views); and a shop trained on it is
promoted, materialized through it and served."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from mlrig.components.config.loader import load
from mlrig.components.features.io import run as features
from mlrig.components.ingest.io import run as ingest
from mlrig.components.integrations.feast.repo import open_store
from mlrig.components.runtime import tables
from mlrig.components.runtime.catalog import TRAINING_SET
from mlrig.components.validate.io import run as validate
from mlrig.serving.predictor import Predictor
from tests.anytable.live import request_of
from tests.anytable.shop import write_shop
from tests.conftest import write_demo
from tests.stages import run_stages

STORES = ("duckdb", "spark")


def _with_store(config: Path, offline: str) -> Path:
    data = yaml.safe_load(config.read_text())
    data.setdefault("stores", {})["feast_offline"] = offline
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    return config


def _training_set(config: Path) -> tuple[pd.DataFrame, dict]:
    loaded = load(config)
    js, out = loaded.to_json(), config.parent / "out"
    ingest(js, str(out / "raw"))
    validate(js, str(out / "raw"), str(out / "val"), str(out / "q"))
    result = features(js, str(out / "val"), str(out / "ts"))
    frame = tables.read_tables(str(out / "ts"))[TRAINING_SET]
    for column in frame.columns:  # Spark's tables hold microseconds, DuckDB's nanoseconds
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.as_unit("ns")
    return frame, result


def _both(tmp_path: Path, write) -> dict[str, tuple[pd.DataFrame, dict]]:
    built = {}
    for offline in STORES:
        folder = tmp_path / offline
        folder.mkdir()
        built[offline] = _training_set(_with_store(write(folder), offline))
    return built


def _same(built: dict[str, tuple[pd.DataFrame, dict]]) -> pd.DataFrame:
    (duck, _), (spark, _) = built["duckdb"], built["spark"]
    assert list(spark.columns) == list(duck.columns)
    pd.testing.assert_frame_equal(spark, duck, check_dtype=False)
    return duck


def test_the_shops_training_set_is_the_same_on_spark(tmp_path):
    built = _both(tmp_path, write_shop)
    frame = _same(built)
    spend = frame.filter(like="spend__")  # counts and sums 0 without events, the max missing
    assert spend.notna().any().all() and spend.isna().any().any()
    assert frame["plan_price__price"].notna().all()  # the composite key joins


def test_a_flights_samples_training_set_is_the_same_on_spark(tmp_path):
    built = _both(tmp_path, lambda folder: write_demo(folder, sample_rows=3000))
    frame = _same(built)
    kinds = {v.kind for v in load(tmp_path / "spark" / "mlrig.yaml").config.features.views}
    assert kinds == {"static", "timeseries", "rolling"}
    assert frame.filter(like="origin_weather__").notna().any().all()
    assert frame.filter(like="plane_history__").notna().any().all()


def test_a_shop_trained_on_spark_is_promoted_materialized_and_served(tmp_path):
    config = _with_store(write_shop(tmp_path), "spark")
    loaded = load(config)
    result = run_stages(loaded, tmp_path / "out")
    assert result["champion_version"] == 1
    store = open_store(loaded.place)
    views = [v for v in store.list_feature_views() if v.name.startswith("spend_")]
    assert views and {type(v.batch_source).__name__ for v in views} == {"SparkSource"}
    customers = pd.read_csv(tmp_path / "customers.csv")
    answer = Predictor(loaded).predict(request_of(customers.iloc[0], pd.Timestamp.now(tz="UTC")))
    assert answer["model_version"] == 1 and 0.0 <= answer["probability"] <= 1.0
    assert "plan_price__price" not in answer["missing_features"]  # materialized through Spark
