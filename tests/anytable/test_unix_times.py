"""A transactions table as a database export writes it: event times as Unix seconds and a
target whose classes are spelled several ways. `mlrig init` reads the times as times and the
spellings as one class; trained in process, the model answers a request that gives the time as a
number as it answers the same time as ISO text, and batch scoring writes the times back as they
came."""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from mlrig.components.config.loader import load
from mlrig.components.score.io import run as score_run
from mlrig.serving.predictor import Predictor
from tests.mlrig.init.helpers import init_table
from tests.stages import run_stages

START = 1_704_067_200  # 2024-01-01 00:00 UTC


def _transactions(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    card = rng.integers(1, 25, n)
    fraud = rng.random(n) < np.where(card % 5 == 0, 0.6, 0.05)
    spelled = np.where(fraud, rng.choice(["yes", "YES", "Yes "], n), rng.choice(["no", "No"], n))
    return pd.DataFrame({"tx_id": np.arange(10_000, 10_000 + n), "card": card,
                         "unix_time": START + np.sort(rng.integers(0, 90 * 86_400, n)),
                         "amount": np.round(rng.gamma(2, 40, n), 2), "fraud": spelled})  # fmt: skip


def test_unix_times_and_spelled_classes_from_init_to_a_prediction_and_a_batch(tmp_path):
    frame = _transactions()
    said, out = init_table(frame, tmp_path, "txns.csv", "--target", "fraud", "--entity", "card",
                           "--timestamp", "unix_time")  # fmt: skip
    assert "'unix_time' holds Unix times in seconds (2024-01-01 to 2024-03-3" in said
    assert "'tx_id' is left out of the config: each row has its own value" in said
    config = yaml.safe_load(out.read_text())
    main = config["dataset"]["tables"]["main"]
    assert main["columns"]["unix_time"] == {"type": "datetime", "nullable": False, "epoch": "s"}
    assert config["dataset"]["positive_label"] == "yes"
    config["model"]["tuning"] = {"trials": 3}  # a small search: a fast test
    out.write_text(yaml.safe_dump(config))
    loaded = load(out)
    registered = run_stages(loaded, tmp_path / "run")
    assert registered["promoted"]

    predictor = Predictor(loaded)
    assert predictor.contract.classes == ["no", "yes"]  # two classes, not five spellings
    request = {"card": 5, "unix_time": START + 91 * 86_400, "amount": 80.0}
    answer = predictor.predict(dict(request))
    assert answer["prediction"] in {"yes", "no"} and "unknown_entities" not in answer
    assert predictor.predict({**request, "unix_time": "2024-04-01T00:00:00Z"}) | {
        "request_id": None
    } == answer | {"request_id": None}  # the same time as ISO text: the same answer
    assert predictor.predict_via_frame(dict(request)) | {"request_id": None} == answer | {
        "request_id": None
    }

    batch = frame.drop(columns=["fraud"]).tail(20)
    batch.to_csv(tmp_path / "batch.csv", index=False)
    score_run(loaded.to_json(), str(tmp_path / "batch.csv"), str(tmp_path / "scored"), ["tx_id"])
    scored = pd.read_parquet(tmp_path / "scored/predictions.parquet")
    assert scored["tx_id"].tolist() == batch["tx_id"].tolist()
    assert scored["unix_time"].tolist() == batch["unix_time"].tolist()  # as they came
    assert scored["prediction"].isin(["yes", "no"]).all()
