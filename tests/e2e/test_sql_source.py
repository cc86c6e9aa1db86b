"""A table in a database, from `mlrig init` to HTTP: orders in a SQLite file, read by table name,
trained from another folder (a relative SQLite file is the config folder's), batch-scored from a
folder of CSV parts, and served. Only the channel says whether an order comes back."""

from __future__ import annotations

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

from tests.e2e.test_examples import _cli
from tests.e2e.test_local_e2e import serving
from tests.sqlite_tables import write_table

pytestmark = pytest.mark.e2e


def _orders(n: int = 900) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    channel = rng.choice(["web", "app", "store"], n)
    returned = (channel == "web") ^ (rng.random(n) < 0.1)
    return pd.DataFrame({
        "order_id": np.arange(1, n + 1),
        "customer": rng.integers(1, 60, n),
        "placed_at": pd.date_range("2025-01-01", periods=n, freq="9h").strftime("%Y-%m-%d %H:%M:%S"),
        "basket": rng.gamma(2, 20, n).round(2),
        "channel": channel,
        "shop": [str(s) for s in rng.integers(1, 5, n)],  # a code the database stores as text
        "returned": np.where(returned, "yes", "no"),
    })  # fmt: skip


def test_a_database_table_from_init_to_a_prediction(tmp_path):
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    orders = _orders()
    write_table(project / "shop.db", "orders", orders)
    init = _cli("init", "sqlite:///shop.db", "--table", "orders", "--target", "returned",
                "--entity", "customer", "--timestamp", "placed_at", cwd=project)  # fmt: skip
    said = " ".join(init.stdout.split())
    assert init.returncode == 0, init.stdout
    assert "'order_id' is left out" in said and "'shop' holds whole numbers" in said
    config = yaml.safe_load((project / "mlrig.yaml").read_text())
    source = config["dataset"]["tables"]["main"]["source"]
    assert source == {"kind": "sql", "url": "sqlite:///shop.db", "query": "SELECT * FROM orders"}

    run = _cli("run", "--config", str(project / "mlrig.yaml"), cwd=elsewhere)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "champion v1" in run.stdout

    parts = project / "batch"
    parts.mkdir()
    later = orders.tail(60).drop(columns=["returned"])
    later.iloc[:30].to_csv(parts / "part-0.csv", index=False)
    later.iloc[30:].to_csv(parts / "part-1.csv", index=False)
    (parts / "_SUCCESS").write_text("")
    scored = _cli("score", "batch", "--keep", "order_id", "--out", "out.csv", cwd=project)
    assert scored.returncode == 0, scored.stdout[-3000:]
    out = pd.read_csv(project / "out.csv")
    assert out["order_id"].tolist() == later["order_id"].tolist()
    web = out["channel"] == "web"
    assert out.loc[web, "probability"].mean() > out.loc[~web, "probability"].mean() + 0.5

    request = {"customer": 7, "placed_at": "2025-05-01T10:00:00", "basket": 42.0,
               "channel": "web", "shop": "2"}  # fmt: skip
    with serving(project / "mlrig.yaml", project) as base:
        answer = httpx.post(f"{base}/predict", json=request, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["prediction"] == "yes"
        store = httpx.post(f"{base}/predict", json={**request, "channel": "store"}, timeout=30)
        assert store.status_code == 200 and store.json()["prediction"] == "no"
