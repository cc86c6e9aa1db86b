"""A table with awkward columns, from `mlrig init` to HTTP and the monitor: a spreadsheet's
export in much of Europe (';' between fields, decimal commas, cp1252), names with spaces, dashes
and accents, a leading underscore ('_reason') and names mlrig uses ('prediction', 'score',
'label') as features, a true/false target, a text id per row, an empty column, 'inf' values,
month/day/year times and a free-text comment with accents."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

from tests.e2e.test_examples import _cli
from tests.e2e.test_local_e2e import serving

pytestmark = pytest.mark.e2e

N = 300
WORDS = ["Karton", "beschädigt", "très", "bien", "zurück", "schnell", "livré", "Größe", "OK"]
EXPORT = {"sep": ";", "decimal": ",", "encoding": "cp1252", "index": False}


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    price = rng.gamma(2, 10, N).round(2)
    qty = rng.integers(1, 9, N)
    frame = pd.DataFrame(
        {
            "txn id": [f"T{i:05d}" for i in rng.permutation(N)],
            "Unit Price": price,
            "Qty": qty,
            "_reason": rng.choice(["gift", "self", "work"], N),
            "prediction": rng.uniform(size=N).round(3),
            "score": rng.normal(size=N).round(3),
            "label": rng.choice(["a", "b"], N),
            "Shop-Ünïcode": rng.choice(["Zoë", "José", "Ævar"], N),
            "notes": [None] * N,
            "Kommentar": [" ".join(rng.choice(WORDS, rng.integers(3, 9))) for _ in range(N)],
            "Order Date": pd.date_range("2023-01-01", periods=N, freq="9h").strftime(
                "%m/%d/%Y %H:%M"
            ),
            "Returned?": price * qty + rng.normal(0, 20, N) > 90,
        }
    )
    frame.loc[[5, 50, 150], "Unit Price"] = np.inf
    return frame


def test_an_awkward_table_trains_scores_and_serves(tmp_path):
    table = _table()
    table.to_csv(tmp_path / "orders.csv", **EXPORT)
    init = _cli("init", "orders.csv", "--target", "Returned?", "--timestamp", "Order Date",
                cwd=tmp_path)  # fmt: skip
    said = " ".join(init.stdout.split())
    assert init.returncode == 0, init.stdout
    assert "'txn id' is left out" in said and "'notes' is left out" in said
    assert "'Kommentar' is free text" in said
    dataset = yaml.safe_load((tmp_path / "mlrig.yaml").read_text())["dataset"]
    main = dataset["tables"]["main"]
    assert "txn id" not in main["columns"] and "positive_label" not in dataset
    assert main["source"] == {"kind": "file", "path": "orders.csv", "sep": ";", "decimal": ",",
                              "encoding": "cp1252"}  # fmt: skip
    assert main["columns"]["Unit Price"]["type"] == "float"
    assert main["columns"]["Kommentar"]["text"] is True
    assert main["columns"]["Order Date"]["day_first"] is False  # 01/13/2023 shows month first

    run = _cli("run", cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "297 ok, 3 quarantined" in " ".join(run.stdout.split())  # the 'inf' prices
    assert "champion v1" in run.stdout

    batch = table.tail(6).reset_index(drop=True)
    batch.drop(columns=["notes"]).to_csv(tmp_path / "batch.csv", **EXPORT)  # read as trained
    scored = _cli("score", "batch.csv", "--keep", "txn id", "--out", "out.csv", cwd=tmp_path)
    assert scored.returncode == 0, scored.stdout[-3000:]
    out = pd.read_csv(tmp_path / "out.csv")
    assert out.columns[0] == "txn id" and out["txn id"].tolist() == batch["txn id"].tolist()
    assert out["prediction_input"].tolist() == batch["prediction"].tolist()  # not overwritten
    assert (
        out["prediction"].dtype == bool  # a true/false target is answered true/false
        and out["Returned?"].tolist() == batch["Returned?"].tolist()
    )
    assert out["Qty"].tolist() == batch["Qty"].tolist() and out["Qty"].dtype.kind == "i"

    request = _request(batch.iloc[0])
    with serving(tmp_path / "mlrig.yaml", tmp_path) as base:
        one = httpx.post(f"{base}/predict", json=request, timeout=30)
        assert one.status_code == 200, one.text
        assert one.json()["prediction"] is bool(out["prediction"].iloc[0])
        assert one.json()["probability"] == pytest.approx(out["probability"].iloc[0], abs=1e-6)
        many = httpx.post(f"{base}/predict_batch", json={"rows": [request, request]}, timeout=30)
        assert many.status_code == 200, many.text
        assert [a["probability"] for a in many.json()["predictions"]] == [
            one.json()["probability"]
        ] * 2
        bad = httpx.post(f"{base}/predict", json={**request, "_reason": 5}, timeout=30)
        assert bad.status_code == 400 and bad.json()["detail"][0]["loc"] == ["_reason"]
        served = table[np.isfinite(table["Unit Price"])].head(120)
        rows = [_request(r) for _, r in served.iterrows()]
        assert httpx.post(f"{base}/predict_batch", json={"rows": rows}, timeout=60).is_success

    drift = _cli("monitor", "drift", cwd=tmp_path)  # inputs named like the log's own columns
    assert drift.returncode == 0, drift.stdout[-3000:]
    report = sorted((tmp_path / ".mlrig/monitor").glob("*/drift.json"))[-1]
    checked = {f["column"] for f in json.loads(report.read_text())["features"]}
    assert {"prediction", "score", "label", "_reason", "Kommentar"} <= checked


def _request(row: pd.Series) -> dict:
    return {"Unit Price": float(row["Unit Price"]), "Qty": int(row["Qty"]),
            "_reason": row["_reason"], "prediction": float(row["prediction"]),
            "score": float(row["score"]), "label": row["label"],
            "Shop-Ünïcode": row["Shop-Ünïcode"], "Kommentar": row["Kommentar"],
            "Order Date": pd.Timestamp(row["Order Date"]).isoformat()}  # fmt: skip
