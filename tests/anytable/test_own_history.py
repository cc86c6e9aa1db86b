"""A transactions table keyed by customer, as `mlrig init` writes it with --entity and
--timestamp, trained in process: each transaction's features include its customer's earlier
fraud rate (a 1/0 column of the 'yes' class, aggregated point in time), and the one-row serving
path answers as the batch path does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from mlrig.components.config.loader import load
from mlrig.components.runtime import tables
from mlrig.components.runtime.catalog import TRAINING_SET
from mlrig.serving.predictor import Predictor
from tests.mlrig.init.helpers import init_table
from tests.stages import run_stages


def _transactions(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    customer = rng.integers(1, 25, n)
    fraud = rng.random(n) < np.where(customer % 5 == 0, 0.6, 0.05)
    times = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, 90, n)), "D")
    return pd.DataFrame({"customer": customer, "ts": times.strftime("%Y-%m-%d %H:%M:%S"),
                         "amount": [f"${a:,.2f}" for a in rng.gamma(2, 40, n)],
                         "fraud": np.where(fraud, "yes", "no")})  # fmt: skip


def test_a_customers_earlier_fraud_rate_is_a_point_in_time_feature(tmp_path):
    frame = _transactions()
    _, out = init_table(frame, tmp_path, "txns.csv", "--target", "fraud", "--entity", "customer",
                        "--timestamp", "ts")  # fmt: skip
    config = yaml.safe_load(out.read_text())
    assert config["dataset"]["tables"]["main"]["derive"] == [
        {"name": "fraud_yes", "equals": {"column": "fraud", "value": "yes"}}
    ]
    config["model"]["tuning"] = {"trials": 3}  # a small search: a fast test
    out.write_text(yaml.safe_dump(config))
    loaded = load(out)
    registered = run_stages(loaded, tmp_path / "run")
    assert registered["promoted"]

    training = tables.read_tables(tmp_path / "run" / "ts")[TRAINING_SET]
    rate = "customer_history__fraud_yes_mean_all"
    assert training[rate].notna().sum() > 350  # all but each customer's first transaction
    assert rate in training and "fraud_yes" not in Predictor(loaded).contract.inputs
    truth = frame.assign(t=pd.to_datetime(frame["ts"]), y=(frame["fraud"] == "yes") * 1.0)
    truth = truth.sort_values("t", kind="stable")
    earlier = truth.groupby("customer")["y"].transform(lambda y: y.shift().expanding().mean())
    expected = dict(zip(zip(truth["customer"], truth["t"], strict=True), earlier, strict=True))
    times = pd.to_datetime(training["ts"]).dt.tz_localize(None)
    for customer, when, got in zip(training["customer"], times, training[rate], strict=True):
        want = expected[(customer, when)]
        assert (np.isnan(got) and np.isnan(want)) or abs(got - want) < 1e-9, (customer, when)

    predictor = Predictor(loaded)
    request = {"customer": 5, "ts": "2024-04-01T10:00:00", "amount": 80.0}
    answer = predictor.predict(dict(request))
    assert answer["prediction"] in {"yes", "no"} and "unknown_entities" not in answer
    assert predictor.predict_via_frame(dict(request)) == answer
