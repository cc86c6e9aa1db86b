"""A yearly panel (regions by year, 1995-2020, a regression target): `mlrig init --timestamp year`
reads the whole years as times (each year's first moment), trains on the earlier years with each
region's own past as features, and answers a request that gives the year as a number exactly as
it answers the same moment as ISO text; batch scoring writes the years back as years."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import yaml

from mlrig.components.config.loader import load
from mlrig.components.score.io import run as score_run
from mlrig.serving.predictor import Predictor
from tests.mlrig.init.helpers import init_table
from tests.stages import run_stages


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    regions = [f"r{i:02d}" for i in range(30)]
    level = dict(zip(regions, rng.normal(100, 30, len(regions)), strict=True))
    rows = []
    for region in regions:
        for year in range(1995, 2021):
            rate = rng.uniform(0, 10)
            spend = level[region] + 2.0 * (year - 1995) - 3.0 * rate + rng.normal(0, 5)
            rows.append((region, year, round(rate, 2), round(spend, 1)))
    return pd.DataFrame(rows, columns=["region", "year", "rate", "spend"])


def test_a_yearly_panel_from_init_to_a_prediction_and_a_batch(tmp_path):
    frame = _panel()
    said, out = init_table(frame, tmp_path, "panel.csv", "--target", "spend", "--entity",
                           "region", "--timestamp", "year")  # fmt: skip
    assert "'year' holds years (1995 to 2020)" in said
    config = yaml.safe_load(out.read_text())
    columns = config["dataset"]["tables"]["main"]["columns"]
    assert columns["year"] == {"type": "datetime", "nullable": False, "epoch": "year"}
    assert config["dataset"]["task"] == "regression"
    config["model"]["tuning"] = {"trials": 3}  # a small search: a fast test
    out.write_text(yaml.safe_dump(config))
    loaded = load(out)
    registered = run_stages(loaded, tmp_path / "run")
    assert registered["version"] == 1
    loss = json.loads((tmp_path / "run/eval/loss_model.json").read_text())  # errors before labels
    assert loss["columns"] and set(loss["boosters"]) == {"abs", "squared"}

    predictor = Predictor(loaded)
    request = {"region": "r03", "year": 2021, "rate": 4.0}
    answer = predictor.predict(dict(request))
    assert isinstance(answer["prediction"], float) and "unknown_entities" not in answer
    as_text = predictor.predict({**request, "year": "2021-01-01T00:00:00Z"})
    assert as_text["prediction"] == answer["prediction"]  # the same moment: the same answer
    assert predictor.predict_via_frame(dict(request))["prediction"] == answer["prediction"]
    later = predictor.predict({**request, "rate": 9.0})
    assert later["prediction"] != answer["prediction"]

    batch = frame.drop(columns=["spend"]).tail(30)
    batch.to_csv(tmp_path / "batch.csv", index=False)
    score_run(loaded.to_json(), str(tmp_path / "batch.csv"), str(tmp_path / "scored"), [])
    scored = pd.read_parquet(tmp_path / "scored/predictions.parquet")
    assert scored["year"].tolist() == batch["year"].tolist()  # years, as they came
    assert len(scored) == len(batch) and scored["prediction"].notna().all()
