"""feature_repo/ works for the feast CLI: its yaml placeholders and its generated definitions."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from feast import FeatureService, FeatureView
from feast.repo_config import load_repo_config

from mlrig.components.integrations.feast.repo import feast_env
from tests.conftest import REPO, load_demo


def test_feature_store_yaml_resolves_from_mlrig_config(demo_dir, monkeypatch):
    loaded = load_demo(demo_dir)
    for key, value in feast_env(loaded.place).items():
        monkeypatch.setenv(key, value)
    repo = REPO / "feature_repo"
    config = load_repo_config(repo, repo / "feature_store.yaml")
    assert config.project == "mlrig_flights"
    assert (
        config.offline_store.type
        == "mlrig.components.integrations.feast.asof_store.AsofDuckDBOfflineStore"
    )
    assert config.registry.path == str(demo_dir / ".mlrig/feast/registry.db")


def test_definitions_module_exposes_views_and_service(demo_dir, monkeypatch):
    load_demo(demo_dir)
    monkeypatch.setenv("MLRIG_CONFIG", str(demo_dir / "mlrig.yaml"))
    spec = importlib.util.spec_from_file_location("defs", REPO / "feature_repo/definitions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    views = {n for n, o in vars(module).items() if isinstance(o, FeatureView)}
    assert views == {
        "plane_attributes", "route_attributes", "origin_weather", "plane_history", "route_history"
    }  # fmt: skip
    service = module.flight_delay_v1
    assert isinstance(service, FeatureService) and len(service.feature_view_projections) == 5
    assert Path(os.environ["MLRIG_CONFIG"]).exists()


def test_the_spark_profile_reads_its_connect_address_from_the_environment(monkeypatch):
    from mlrig.components.config.loader import load
    from mlrig.components.integrations.feast import sources
    from tests.conftest import REPO

    monkeypatch.setenv("MLRIG_SPARK_REMOTE", "sc://spark.example:15002")
    place = load(str(REPO / "mlrig.yaml"), "spark").place
    conf = sources.offline_store(place, "unused")
    assert conf["type"] == "spark"
    assert conf["spark_conf"]["spark.remote"] == "sc://spark.example:15002"
    assert "spark.master" not in conf["spark_conf"]  # the server's, not a local one
    assert conf["spark_conf"]["spark.sql.session.timeZone"] == "UTC"
    assert sources.parquet_options(place) == {"coerce_timestamps": "us",
                                              "allow_truncated_timestamps": True}  # fmt: skip
    monkeypatch.delenv("MLRIG_SPARK_REMOTE")
    with pytest.raises(Exception, match="MLRIG_SPARK_REMOTE"):
        sources.spark_conf(place)


def test_the_default_stores_keep_duckdb_and_nanosecond_tables():
    from mlrig.components.config.loader import load
    from mlrig.components.integrations.feast import sources
    from tests.conftest import REPO

    place = load(str(REPO / "mlrig.yaml")).place
    assert sources.offline_store(place, "asof")["type"] == "asof"
    assert sources.parquet_options(place) == {}
