"""A table of events by entity, from `mlrig init` to HTTP: a chain's daily sales per store,
exported from a spreadsheet (the target written as currency, the footfall with 'unknown' for no
count). Nothing in a row says which store sells more; only the store's own past does, which init
turns into an aggregate feature view of the table itself."""

from __future__ import annotations

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

from tests.e2e.test_examples import _cli
from tests.e2e.test_local_e2e import serving

pytestmark = pytest.mark.e2e

STORES, DAYS = 6, 150


def _sales() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = []
    for store in range(1, STORES + 1):
        base = 200.0 * store
        for day in pd.date_range("2024-01-01", periods=DAYS, freq="D"):
            promo = bool(rng.random() < 0.2)
            footfall = int(rng.integers(50, 400))
            sales = base * (1.3 if day.dayofweek >= 5 else 1.0) + 80 * promo + rng.normal(0, 25)
            rows.append({"store": store, "date": day.strftime("%Y-%m-%d"),
                         "promo": "yes" if promo else "no",
                         "footfall": "unknown" if rng.random() < 0.03 else str(footfall),
                         "sales": f"${sales:,.2f}"})  # fmt: skip
    return pd.DataFrame(rows)


def test_a_stores_own_past_predicts_its_sales(tmp_path):
    table = _sales()
    train, later = table[table["date"] < "2024-05-20"], table[table["date"] >= "2024-05-20"]
    train.to_csv(tmp_path / "sales.csv", index=False)
    init = _cli("init", "sales.csv", "--target", "sales", "--entity", "store", "--timestamp",
                "date", cwd=tmp_path)  # fmt: skip
    said = " ".join(init.stdout.split())
    assert init.returncode == 0, init.stdout
    assert "'sales' is read as amounts" in said and "features.views.store_history" in said
    config = yaml.safe_load((tmp_path / "mlrig.yaml").read_text())
    columns = config["dataset"]["tables"]["main"]["columns"]
    assert columns["sales"]["number_format"] == "currency"
    assert columns["footfall"]["missing"] == ["unknown"]
    assert config["dataset"]["request_features"] == ["promo", "footfall"]

    run = _cli("run", cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "champion v1" in run.stdout

    later.drop(columns=["sales"]).to_csv(tmp_path / "later.csv", index=False)
    scored = _cli("score", "later.csv", "--out", "out.csv", cwd=tmp_path)
    assert scored.returncode == 0, scored.stdout[-3000:]
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns[:4]) == ["store", "date", "promo", "footfall"]  # as the input's
    actual = later["sales"].str.replace(r"[$,]", "", regex=True).astype(float).to_numpy()
    r2 = 1 - np.sum((out["prediction"] - actual) ** 2) / np.sum((actual - actual.mean()) ** 2)
    assert r2 > 0.8, r2  # the stores' levels (200 to 1,200) come only from their history
    assert out["footfall"].isna().sum() == (later["footfall"] == "unknown").sum()

    request = {"store": 4, "date": "2024-05-20T00:00:00", "promo": "no", "footfall": 120}
    with serving(tmp_path / "mlrig.yaml", tmp_path) as base:
        known = httpx.post(f"{base}/predict", json=request, timeout=30)
        assert known.status_code == 200, known.text
        answer = known.json()
        assert "unknown_entities" not in answer
        assert "store_history__sales_mean_all" not in answer["missing_features"]
        assert 600 < answer["prediction"] < 1000  # store 4 sells about 800 a weekday
        new = httpx.post(f"{base}/predict", json={**request, "store": 99}, timeout=30)
        assert new.status_code == 200 and new.json()["unknown_entities"] == ["store_history"]
        why = httpx.post(f"{base}/predict", json={**request, "explain": True}, timeout=30).json()
        assert why["prediction"] == answer["prediction"] and "explanation" not in answer
        reasons = why["explanation"]
        if reasons["method"] != "unavailable":  # exact: the value, in the model's own inputs
            assert "store_history__sales_mean_all" in reasons["contributions"]
            total = reasons["base"] + sum(reasons["contributions"].values())
            assert abs(total - answer["prediction"]) < 1e-6
        rows = {"rows": [request, {**request, "explain": True}]}
        both = httpx.post(f"{base}/predict_batch", json=rows, timeout=30).json()["predictions"]
        assert "explanation" not in both[0] and both[1]["explanation"] == reasons
        text = httpx.post(f"{base}/predict", json={**request, "footfall": "unknown"}, timeout=30)
        assert text.status_code == 400 and [d["loc"] for d in text.json()["detail"]] == [
            ["footfall"]
        ]  # one error, at the field (not ['footfall', 'int'] and ['footfall', 'float'])
