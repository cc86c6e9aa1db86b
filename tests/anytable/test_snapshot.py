"""A snapshot table: one row per customer as of one cut-off date, features from their purchases
before it. Every row has the same event time, so the holdout and CV cannot be cut in time."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from mlrig.components.config.loader import load
from mlrig.components.contract.contract import Contract
from mlrig.components.contract.timeutil import too_few_times
from mlrig.components.runtime import tables
from mlrig.components.score.core import BatchError
from mlrig.components.score.io import run as score_run
from tests.anytable.shop import write_shop
from tests.stages import run_stages

AS_OF = "2024-10-01T00:00:00"


def test_a_time_split_needs_a_block_per_fold_and_one_for_the_holdout():
    times = pd.Series(pd.date_range("2024-01-01", periods=5, freq="D"))
    assert too_few_times(times, folds=3) is None
    assert "only 4 distinct" in too_few_times(times.iloc[:4], folds=3)
    assert "same event time" in too_few_times(pd.Series([times[0]] * 50), folds=3)


def test_a_snapshot_with_one_as_of_date_trains_on_a_random_holdout_with_point_in_time_features(
    tmp_path,
):
    config = write_shop(tmp_path, customers=400)
    customers = pd.read_csv(tmp_path / "customers.csv")
    customers["as_of"] = AS_OF  # one cut-off date for every row
    customers["snapshot_date"] = "2024-10-01"  # a constant, which init leaves out
    customers.to_csv(tmp_path / "customers.csv", index=False)
    data = yaml.safe_load(config.read_text())
    data["dataset"]["tables"]["customers"]["left_out"] = ["snapshot_date"]
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run_stages(load(config), tmp_path / "run")
    assert result["champion_version"] == 1
    holdout = tables.read_manifest(tmp_path / "run/hold")
    assert "same event time" in holdout["holdout"] and "random" in holdout["holdout"]
    training = tables.read_tables(tmp_path / "run/ts")
    (frame,) = training.values()
    tx = pd.read_csv(tmp_path / "transactions.csv", parse_dates=["ts"])
    before = tx[tx.ts < pd.Timestamp(AS_OF)].groupby("customer_id").size()
    counts = frame.set_index("customer_id")["spend__amount_count_30d"]
    recent = tx[
        (tx.ts < pd.Timestamp(AS_OF)) & (tx.ts >= pd.Timestamp(AS_OF) - pd.Timedelta(30, "D"))
    ]
    expected = recent.groupby("customer_id").size().reindex(counts.index).fillna(0)
    assert before.sum() < len(tx)  # purchases after the cut-off exist and were left out
    # the evaluation shows each input's share of the holdout's contributions
    shares = tables.read_json(tmp_path / "run/eval", "contributions.json")
    assert set(shares) == set(Contract.load(tmp_path / "run/model").inputs)
    assert abs(sum(shares.values()) - 1) < 1e-9 and max(shares.values()) > 0
    assert "Contributions (holdout)" in (tmp_path / "run/eval/evaluation.html").read_text()
    assert (counts.fillna(0).to_numpy() == expected.to_numpy()).all()

    # a batch shaped like the training table: its declared and left-out columns are not unknown
    batch = tmp_path / "batch.csv"
    customers.head(20).to_csv(batch, index=False)
    summary = score_run(load(config).to_json(), str(batch), str(tmp_path / "scored"), [])
    assert summary["scored"] == 20 and summary["ignored_columns"] == ["snapshot_date"]
    customers.head(5).assign(color="red").to_csv(batch, index=False)
    with pytest.raises(BatchError, match=r"unknown columns \['color'\]"):
        score_run(load(config).to_json(), str(batch), str(tmp_path / "scored2"), [])


def test_validate_says_the_split_will_be_random_before_any_feature_work(tmp_path, monkeypatch):
    from mlrig.components.ingest.io import run as ingest
    from mlrig.components.runtime import events
    from mlrig.components.validate.io import run as validate

    monkeypatch.setenv("MLRIG_NO_CACHE", "1")
    config = write_shop(tmp_path, customers=120)
    customers = pd.read_csv(tmp_path / "customers.csv").assign(as_of=AS_OF)
    customers.to_csv(tmp_path / "customers.csv", index=False)
    js = load(config).to_json()
    ingest(js, str(tmp_path / "raw"))
    validate(js, str(tmp_path / "raw"), str(tmp_path / "val"), str(tmp_path / "q"))
    said = events.REPORTED["validate"]["split"]
    assert said == "random holdout and shuffled CV: every row has the same event time (a snapshot)"
