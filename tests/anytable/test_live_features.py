"""Definitions are pinned, data flows: rows appended to a live view's source reach the online and
the offline store on the next `mlrig features materialize`, with no training run; online reads
apply the view's TTL at the request's time, as the offline join does."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mlrig.cli import app
from mlrig.components.common import feast_store, tracking
from mlrig.components.common.assemble import assemble
from mlrig.components.common.assemble_one import OneRow
from mlrig.components.config.loader import load
from mlrig.serving.predictor import Predictor
from tests.anytable.shop import write_shop
from tests.stages import run_stages

TTL_DAYS = 7
SPEND = ["spend__amount_count_30d", "spend__amount_sum_30d", "spend__amount_max_30d"]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    config = write_shop(folder)
    data = yaml.safe_load(config.read_text())
    spend = next(v for v in data["features"]["views"] if v["name"] == "spend")
    spend["ttl_hours"] = 24 * TTL_DAYS
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    assert run_stages(load(config), folder / "run")["promoted"]
    newest = _local(pd.read_csv(folder / "transactions.csv").ts).max()
    tick = ["features", "materialize", "--until", (newest + pd.Timedelta(hours=1)).isoformat()]
    first = CliRunner().invoke(app, [*tick, "-c", str(config)])  # the CronJob, in data time
    assert first.exit_code == 0, first.output  # with no watermark yet: every row is read
    return folder, config


def _local(times: pd.Series) -> pd.Series:
    return pd.to_datetime(times, format="ISO8601").dt.tz_localize(
        "America/New_York", nonexistent="shift_forward", ambiguous="NaT"
    )


def _request(customer: pd.Series, when: pd.Timestamp) -> dict:
    return {"customer_id": int(customer.customer_id), "region": customer.region,
            "plan": customer.plan, "as_of": when.isoformat(), "zip": "01003", "age": 40.0}  # fmt: skip


def _online_and_offline(config, request: dict) -> tuple[OneRow, OneRow]:
    predictor = Predictor(load(config))
    online = predictor.rows._one(dict(request), predictor.features, None)
    store = feast_store.open_store(load(config))
    built = assemble(
        predictor.contract, pd.DataFrame([request]), feast_store.OfflineFeatures(store)
    )
    return online, OneRow.of(built)


def test_appended_rows_reach_online_and_offline_features_without_a_training_run(live):
    folder, config = live
    customers = pd.read_csv(folder / "customers.csv")
    tx = pd.read_csv(folder / "transactions.csv")
    customer = customers.iloc[0]
    last = _local(tx.ts).max()  # the file's naive times are New York time (dataset.timezone)
    new = pd.DataFrame({"customer_id": [customer.customer_id] * 2,
                        "ts": [(last + pd.Timedelta(hours=h)).tz_localize(None).isoformat()
                               for h in (1, 2)],
                        "amount": [999.0, 5.0]})  # fmt: skip
    request = _request(customer, last + pd.Timedelta(hours=3))
    before, _ = _online_and_offline(config, request)
    assert before.inputs["spend__amount_max_30d"] != 999.0

    new.to_csv(folder / "transactions.csv", mode="a", header=False, index=False)
    tick = (last + pd.Timedelta(hours=3)).isoformat()  # the hourly CronJob, in the data's time
    result = CliRunner().invoke(
        app, ["features", "materialize", "--until", tick, "-c", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert "transactions +2" in " ".join(result.output.split())

    online, offline = _online_and_offline(config, request)
    assert online.inputs["spend__amount_max_30d"] == 999.0  # the new event, as of the request
    for name in SPEND:  # the online answer is the offline point-in-time answer
        assert online.inputs[name] == pytest.approx(offline.inputs[name]), name
    answer = Predictor(load(config)).predict(dict(request))
    assert answer["model_version"] == 1 and answer["missing_features"] == []
    assert answer["feature_age_s"]["spend"] == pytest.approx(3600.0)  # the +2 h row, 1 h old
    mlflow = tracking.configure(load(config))
    assert len(mlflow.MlflowClient().search_model_versions("name = 'shop'")) == 1


def test_a_request_later_than_the_ttl_lists_the_view_as_missing(live):
    folder, config = live
    customer = pd.read_csv(folder / "customers.csv").iloc[0]
    newest = _local(pd.read_csv(folder / "transactions.csv").ts).max()
    late = _request(customer, newest + pd.Timedelta(days=TTL_DAYS, hours=1))
    online, offline = _online_and_offline(config, late)
    for name in SPEND:
        assert online.missing[name] and offline.missing[name], name
    answer = Predictor(load(config)).predict(dict(late))
    assert set(SPEND) <= set(answer["missing_features"])
    assert answer["feature_age_s"]["spend"] > TTL_DAYS * 86_400
    fresh = _request(customer, newest + pd.Timedelta(days=TTL_DAYS - 1))
    assert not set(SPEND) & set(Predictor(load(config)).predict(fresh)["missing_features"])


def test_status_shows_each_live_views_newest_event_rows_and_age(live):
    import json

    folder, config = live
    result = CliRunner().invoke(app, ["features", "status", "--json", "-c", str(config)])
    assert result.exit_code == 0, result.output
    rows = {r["view"]: r for r in map(json.loads, result.output.splitlines())}
    assert set(rows) == {"spend", "plan_price"}
    newest = _local(pd.read_csv(folder / "transactions.csv").ts).max()
    spend = rows["spend"]
    assert pd.Timestamp(spend["last_event"]) >= newest and spend["rows"] > 3000
    assert spend["age_s"] > 0 and spend["materialized_at"]


def test_each_materialize_leaves_the_freshness_the_serving_pods_export(live):
    from mlrig.components.features import freshness

    folder, config = live
    views = {v["view"]: v for v in freshness.read(freshness.freshness_path(load(config)))}
    assert set(views) == {"spend", "plan_price"}
    newest = _local(pd.read_csv(folder / "transactions.csv").ts).max()
    assert views["spend"]["last_event"] >= newest.timestamp()
    assert views["spend"]["ttl_s"] == TTL_DAYS * 24 * 3600 and views["plan_price"]["ttl_s"] == 0
    assert views["spend"]["rows"] > 3000 and views["spend"]["materialized_at"] > 0


def test_a_missing_or_broken_freshness_file_exports_nothing(tmp_path):
    from mlrig.components.features import freshness

    assert freshness.read(tmp_path / "none.json") == []
    (tmp_path / "broken.json").write_text("{not json")
    assert freshness.read(tmp_path / "broken.json") == []
