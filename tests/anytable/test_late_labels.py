"""Labels come after their events: a transactions table keyed by customer (init's --entity and
--timestamp), whose newest rows have no label yet. Those rows are events: the customer's history
counts them, in training and online, and the live refresh brings new ones online before any
label arrives; no model learns from a row without a label."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mlrig.cli import app
from mlrig.components.config.loader import load
from mlrig.components.contract.acceptance import ValidationStop
from mlrig.components.ingest.io import run as ingest
from mlrig.components.runtime import tables
from mlrig.components.runtime.catalog import TRAINING_SET
from mlrig.components.validate.io import run as validate
from tests.anytable.live import online_and_offline
from tests.mlrig.init.helpers import init_table
from tests.stages import run_stages

COUNT = "customer_history__count_all"
RATE = "customer_history__fraud_yes_mean_all"


def _transactions(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    customer = rng.integers(1, 20, n)
    times = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, 90, n)), "D")
    fraud = np.where(rng.random(n) < np.where(customer % 4 == 0, 0.5, 0.05), "yes", "no")
    return pd.DataFrame({"customer": customer, "ts": times.strftime("%Y-%m-%d %H:%M:%S"),
                         "amount": rng.gamma(2, 40, n).round(2), "fraud": fraud})  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Trained on 400 transactions whose last 40 have no label yet, nor ten older ones."""
    folder = tmp_path_factory.mktemp("late")
    frame = _transactions()
    _, config = init_table(frame, folder, "txns.csv", "--target", "fraud", "--entity", "customer",
                           "--timestamp", "ts")  # fmt: skip
    frame.loc[[*frame.index[-40:], *frame.index[100:300:20]], "fraud"] = None
    frame.to_csv(folder / "txns.csv", index=False)
    data = yaml.safe_load(config.read_text())
    fraud = data["dataset"]["tables"]["main"]["columns"]["fraud"]
    assert "nullable" not in fraud  # init leaves a target nullable, though every row had one
    fraud["nullable"] = False  # and a config that says otherwise is overruled for the target
    data["model"]["tuning"] = {"trials": 2}
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run_stages(load(config), folder / "run")
    assert result["promoted"]
    return folder, config, frame


def test_rows_without_a_label_are_counted_events_but_never_training_rows(trained):
    folder, _, frame = trained
    training = tables.read_tables(folder / "run" / "ts")[TRAINING_SET]
    assert len(training) == 350  # the labelled rows, none quarantined
    assert len(pd.read_parquet(folder / "run" / "q" / "main.parquet")) == 0
    report = yaml.safe_load((folder / "run" / "q" / "report.json").read_text())
    assert report["main"]["rows_unlabelled"] == 50 and report["main"]["rows_rejected"] == 0
    # each customer's newest labelled row: every earlier transaction is counted, labelled or
    # not; its fraud rate is over the labelled ones only
    times = pd.to_datetime(frame["ts"])
    last = training.assign(t=pd.to_datetime(training["ts"]).dt.tz_localize(None))
    unlabelled_before = 0
    for _, row in last.sort_values("t").groupby("customer").tail(1).iterrows():
        earlier = frame[(frame["customer"] == row["customer"]) & (times < row["t"])]
        assert row[COUNT] == len(earlier), row["customer"]
        fraud = earlier["fraud"].dropna() == "yes"
        assert row[RATE] == pytest.approx(fraud.mean(), nan_ok=True), row["customer"]
        unlabelled_before += earlier["fraud"].isna().sum()
    assert unlabelled_before > 0  # the rule was put to the test


def test_new_events_reach_the_online_store_before_their_labels(trained):
    folder, config, frame = trained
    newest = pd.to_datetime(frame["ts"]).max()
    shown = CliRunner().invoke(app, ["features", "status", "-c", str(config)])
    assert "customer_history: as the promotion loaded it" in " ".join(shown.output.split())
    first = newest + pd.Timedelta(hours=1)
    tick = CliRunner().invoke(
        app, ["features", "materialize", "--until", first.isoformat(), "-c", str(config)]
    )
    assert tick.exit_code == 0, tick.output
    customer = int(frame["customer"].iloc[-1])
    request = {"customer": customer, "ts": (newest + pd.Timedelta(hours=3)).isoformat(),
               "amount": 50.0}  # fmt: skip
    before, _ = online_and_offline(config, request)

    later = [(newest + pd.Timedelta(hours=h)).strftime("%Y-%m-%d %H:%M:%S") for h in (1.5, 2)]
    new = pd.DataFrame({"customer": [customer] * 2, "ts": later, "amount": [10.0, 20.0],
                        "fraud": [None, None]})  # fmt: skip
    new.to_csv(folder / "txns.csv", mode="a", header=False, index=False)
    tick = CliRunner().invoke(
        app,
        ["features", "materialize", "--until", (newest + pd.Timedelta(hours=3)).isoformat(),
         "-c", str(config)],
    )  # fmt: skip
    assert tick.exit_code == 0, tick.output
    assert "main +2" in " ".join(tick.output.split())
    online, offline = online_and_offline(config, request)
    assert online.inputs[COUNT] == before.inputs[COUNT] + 2
    assert online.inputs[COUNT] == offline.inputs[COUNT]


def test_a_table_with_no_label_yet_stops_at_validate_naming_the_target(tmp_path):
    frame = _transactions(60)
    _, config = init_table(frame, tmp_path, "txns.csv", "--target", "fraud", "--entity", "customer",
                           "--timestamp", "ts")  # fmt: skip
    frame.assign(fraud=None).to_csv(tmp_path / "txns.csv", index=False)
    given = load(config).to_json()
    ingest(given, str(tmp_path / "raw"))
    with pytest.raises(
        ValidationStop, match=r"'main': no row has a target \('fraud'\); its 60 rows"
    ):
        validate(given, str(tmp_path / "raw"), str(tmp_path / "val"), str(tmp_path / "q"))
