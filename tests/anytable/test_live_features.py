"""Definitions are pinned, data flows: rows appended to a live view's source reach the online and
the offline store on the next `mlrig features materialize`, with no training run; online reads
apply the view's TTL at the request's time, as the offline join does."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from mlrig.cli import app
from mlrig.components.config.loader import load
from mlrig.components.integrations.mlflow import tracking
from mlrig.serving.predictor import Predictor
from tests.anytable.live import (
    SPEND,
    TTL_DAYS,
    local,
    online_and_offline,
    request_of,
    start_live,
    windows_follow_the_request,
)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    return folder, start_live(folder)


def test_appended_rows_reach_online_and_offline_features_without_a_training_run(live):
    folder, config = live
    customers = pd.read_csv(folder / "customers.csv")
    tx = pd.read_csv(folder / "transactions.csv")
    customer = customers.iloc[0]
    last = local(tx.ts).max()  # the file's naive times are New York time (dataset.timezone)
    new = pd.DataFrame({"customer_id": [customer.customer_id] * 2,
                        "ts": [(last + pd.Timedelta(hours=h)).tz_localize(None).isoformat()
                               for h in (1, 2)],
                        "amount": [999.0, 5.0]})  # fmt: skip
    request = request_of(customer, last + pd.Timedelta(hours=3))
    before, _ = online_and_offline(config, request)
    assert before.inputs["spend__amount_max_30d"] != 999.0

    new.to_csv(folder / "transactions.csv", mode="a", header=False, index=False)
    tick = (last + pd.Timedelta(hours=3)).isoformat()  # the hourly CronJob, in the data's time
    result = CliRunner().invoke(
        app, ["features", "materialize", "--until", tick, "-c", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert "transactions +2" in " ".join(result.output.split())

    online, offline = online_and_offline(config, request)
    assert online.inputs["spend__amount_max_30d"] == 999.0  # the new event, as of the request
    for name in SPEND:  # the online answer is the offline point-in-time answer
        assert online.inputs[name] == pytest.approx(offline.inputs[name]), name
    answer = Predictor(load(config)).predict(dict(request))
    assert answer["model_version"] == 1 and answer["missing_features"] == []
    assert answer["feature_age_s"]["spend"] == pytest.approx(3600.0)  # the +2 h row, 1 h old
    mlflow = tracking.configure(load(config).place)
    assert len(mlflow.MlflowClient().search_model_versions("name = 'shop'")) == 1


def test_a_request_later_than_the_ttl_lists_the_view_as_missing(live):
    folder, config = live
    customer = pd.read_csv(folder / "customers.csv").iloc[0]
    newest = local(pd.read_csv(folder / "transactions.csv").ts).max()
    late = request_of(customer, newest + pd.Timedelta(days=TTL_DAYS, hours=1))
    online, offline = online_and_offline(config, late)
    for name in SPEND:
        assert online.missing[name] and offline.missing[name], name
    answer = Predictor(load(config)).predict(dict(late))
    assert set(SPEND) <= set(answer["missing_features"])
    assert answer["feature_age_s"]["spend"] > TTL_DAYS * 86_400
    fresh = request_of(customer, newest + pd.Timedelta(days=TTL_DAYS - 1))
    assert not set(SPEND) & set(Predictor(load(config)).predict(fresh)["missing_features"])


def test_status_shows_each_live_views_newest_event_rows_and_age(live):
    import json

    folder, config = live
    result = CliRunner().invoke(app, ["features", "status", "--json", "-c", str(config)])
    assert result.exit_code == 0, result.output
    rows = {r["view"]: r for r in map(json.loads, result.output.splitlines())}
    assert set(rows) == {"spend", "plan_price"}
    newest = local(pd.read_csv(folder / "transactions.csv").ts).max()
    spend = rows["spend"]
    assert pd.Timestamp(spend["last_event"]) >= newest and spend["rows"] > 3000
    assert spend["age_s"] > 0 and spend["materialized_at"]


def test_each_materialize_leaves_the_freshness_the_serving_pods_export(live):
    from mlrig.components.features import freshness

    folder, config = live
    views = {v["view"]: v for v in freshness.read(freshness.freshness_path(load(config).workdir))}
    assert set(views) == {"spend", "plan_price"}
    newest = local(pd.read_csv(folder / "transactions.csv").ts).max()
    assert views["spend"]["last_event"] >= newest.timestamp()
    assert views["spend"]["ttl_s"] == TTL_DAYS * 24 * 3600 and views["plan_price"]["ttl_s"] == 0
    assert views["spend"]["rows"] > 3000 and views["spend"]["materialized_at"] > 0


def test_a_missing_or_broken_freshness_file_exports_nothing(tmp_path):
    from mlrig.components.features import freshness

    assert freshness.read(tmp_path / "none.json") == []
    (tmp_path / "broken.json").write_text("{not json")
    assert freshness.read(tmp_path / "broken.json") == []


def test_windows_online_are_as_of_the_request_not_of_the_last_materialization(live):
    windows_follow_the_request(*live)
