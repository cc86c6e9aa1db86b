"""A live shop for the feature-freshness tests: trained, promoted and materialized once, in the
data's own time (the CronJob's `--until`), with a 7-day TTL on its 30-day spending windows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mlrig.cli import app
from mlrig.components.config.loader import load
from mlrig.components.contract.assemble import assemble
from mlrig.components.contract.assemble_one import OneRow
from mlrig.components.features import refresh
from mlrig.components.integrations.feast import feast_store
from mlrig.components.integrations.feast.repo import open_store
from mlrig.serving.predictor import Predictor
from tests.anytable.shop import write_shop
from tests.stages import run_stages

TTL_DAYS = 7
SPEND = ["spend__amount_count_30d", "spend__amount_sum_30d", "spend__amount_max_30d"]


def start_live(
    folder: Path, stores: dict | None = None, clear_online: Callable[[], None] | None = None
) -> Path:
    """The shop's config, its first model promoted and its features materialized in the data's
    time. clear_online: empties an online store that keeps a key's newest row whatever is
    loaded later (Redis), since promotion loads the views up to today's date."""
    config = write_shop(folder)
    data = yaml.safe_load(config.read_text())
    spend = next(v for v in data["features"]["views"] if v["name"] == "spend")
    spend["ttl_hours"] = 24 * TTL_DAYS
    if stores:
        data["stores"] = {**data.get("stores", {}), **stores}
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    assert run_stages(load(config), folder / "run")["promoted"]
    newest = local(pd.read_csv(folder / "transactions.csv").ts).max()
    tick = ["features", "materialize", "--until", (newest + pd.Timedelta(hours=1)).isoformat()]
    if clear_online is not None:
        clear_online()
        tick.append("--full")
    first = CliRunner().invoke(app, [*tick, "-c", str(config)])  # the CronJob, in data time
    assert first.exit_code == 0, first.output  # with no watermark yet: every row is read
    return config


def local(times: pd.Series) -> pd.Series:
    """The shop's naive times, which are New York time (dataset.timezone)."""
    return pd.to_datetime(times, format="ISO8601").dt.tz_localize(
        "America/New_York", nonexistent="shift_forward", ambiguous="NaT"
    )


def request_of(customer: pd.Series, when: pd.Timestamp) -> dict:
    return {"customer_id": int(customer.customer_id), "region": customer.region,
            "plan": customer.plan, "as_of": when.isoformat(), "zip": "01003", "age": 40.0}  # fmt: skip


def online_and_offline(config: Path, request: dict) -> tuple[OneRow, OneRow]:
    """One request's inputs from the online store and from the offline point-in-time join."""
    predictor = Predictor(load(config))
    online = predictor.rows._one(dict(request), predictor.features, None)
    store = open_store(load(config).place)
    built = assemble(
        predictor.contract, pd.DataFrame([request]), feast_store.OfflineFeatures(store)
    )
    return online, OneRow.of(built)


def windows_follow_the_request(folder: Path, config: Path) -> None:
    """Five days after the last materialization, a customer whose events left the 30-day window
    since is answered with the offline join's values at the request's time, and their age."""
    live_set = feast_store.live_feature_set(load(config).place)
    until = pd.Timestamp(
        refresh.read_state(load(config).place, live_set.version)["views"]["spend"]["until"]
    )
    when = until + pd.Timedelta(days=5)  # within the TTL; some events leave the 30-day window
    tx = pd.read_csv(folder / "transactions.csv").assign(moment=lambda t: local(t.ts))
    leaving = tx[
        (tx.moment > until - pd.Timedelta(days=30)) & (tx.moment <= when - pd.Timedelta(days=30))
    ]
    customer = pd.read_csv(folder / "customers.csv").set_index("customer_id", drop=False)
    staying = tx[tx.moment > when - pd.Timedelta(days=30)].customer_id.value_counts()
    chosen = staying.reindex(leaving.customer_id.unique()).fillna(0).idxmax()
    customer = customer.loc[chosen]  # events leave its window and others stay
    mine = tx[tx.customer_id == customer.customer_id]
    in_window = mine[mine.moment > when - pd.Timedelta(days=30)]

    online, offline = online_and_offline(config, request_of(customer, when))
    assert (
        online.inputs["spend__amount_count_30d"]
        == len(in_window)
        < len(mine[mine.moment > until - pd.Timedelta(days=30)])
    )  # fewer than the materialized row counted: events left the window since
    for name in SPEND:
        assert online.inputs[name] == pytest.approx(offline.inputs[name], nan_ok=True), name
    predictor = Predictor(load(config))
    answer = predictor.predict(request_of(customer, when))
    assert predictor.predict_many([request_of(customer, when)])[0] == answer  # the batch path
    left = leaving[leaving.customer_id == customer.customer_id].moment.max() + pd.Timedelta(days=30)
    assert answer["feature_age_s"]["spend"] == pytest.approx((when - left).total_seconds(), abs=1)
