"""Time passing on Spark: rows appended to a live view's source reach the online and offline
stores on the next `mlrig features materialize`, with no training run, exactly as the DuckDB
store's test asks (tests/anytable/test_live_features.py, run here on a shop whose offline store
is Spark)."""

from __future__ import annotations

from tests.anytable import test_live_features as on_duckdb
from tests.anytable.live import start_live


def test_appended_rows_reach_the_online_and_offline_features_through_spark(tmp_path):
    config = start_live(tmp_path, stores={"feast_offline": "spark"})
    on_duckdb.test_appended_rows_reach_online_and_offline_features_without_a_training_run(
        (tmp_path, config)
    )
