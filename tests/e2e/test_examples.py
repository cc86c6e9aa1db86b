"""The examples/ configs (written by `mlrig init` for tables mlrig had never seen): each trains
with `mlrig run`, answers `/predict` over HTTP and batch-scores with `mlrig score`."""

from __future__ import annotations

import importlib.resources
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest

from mlrig.components.config.loader import load
from mlrig.components.contract.contract import draft
from tests.conftest import REPO
from tests.e2e.test_local_e2e import serving

pytestmark = pytest.mark.e2e

EXAMPLES = {
    # name: (data file inside a package, reader, check of one prediction)
    "penguins": ("palmerpenguins/data/penguins.csv", pd.read_csv,
                 lambda p: p in {"Adelie", "Chinstrap", "Gentoo"}),
    "seattle_weather": ("vega_datasets/_data/seattle-weather.csv", pd.read_csv,
                        lambda p: p in {"drizzle", "rain", "sun", "snow", "fog"}),
    "cars": ("vega_datasets/_data/cars.json", pd.read_json, lambda p: 5 < p < 60),
}  # fmt: skip


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlrig.cli", *args], cwd=cwd, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip


def _rows(name: str, fields: list[str], n: int = 5) -> pd.DataFrame:
    package, _, inner = EXAMPLES[name][0].partition("/")
    data = EXAMPLES[name][1](str(importlib.resources.files(package).joinpath(inner)))
    return data.tail(n)[fields].reset_index(drop=True)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_trains_serves_and_scores(name, tmp_path):
    shutil.copy(REPO / "examples" / name / "mlrig.yaml", tmp_path / "mlrig.yaml")
    run = _cli("run", cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "champion v1" in run.stdout and "CV " in run.stdout

    cfg = load(tmp_path / "mlrig.yaml").config
    fields = draft(cfg, None).request_fields
    target = cfg.dataset.target
    rows = _rows(name, [*fields, target])  # with its labels: a backtest
    rows.to_csv(tmp_path / "batch.csv", index=False)
    scored = _cli("score", "batch.csv", "--out", "scored/out.csv", cwd=tmp_path)
    assert scored.returncode == 0, scored.stdout[-3000:]
    assert "predictions: scored/out.csv" in scored.stdout
    # the C parser's default float conversion can miss by one ulp: read the floats exactly
    predictions = pd.read_csv(tmp_path / "scored/out.csv", float_precision="round_trip")
    assert len(predictions) == len(rows)
    assert all(EXAMPLES[name][2](p) for p in predictions.prediction)
    assert predictions[target].tolist() == rows[target].tolist()  # the labels, untouched
    out = sorted((tmp_path / ".mlrig/pipeline_root").glob("mlrig-batch-scoring-*"))[-1]
    kept = pd.read_parquet(out / "batch-score/predictions/predictions.parquet")
    assert kept.prediction.tolist() == predictions.prediction.tolist()

    request = {k: (None if pd.isna(v) else v) for k, v in rows.iloc[-1].to_dict().items()
               if k in fields}  # fmt: skip
    request = {k: (v.item() if hasattr(v, "item") else v) for k, v in request.items()}
    for key, kind in fields.items():  # requests carry ISO 8601 times
        if kind.type == "datetime" and request.get(key) is not None:
            request[key] = pd.Timestamp(request[key]).isoformat()
    with serving(tmp_path / "mlrig.yaml", tmp_path) as base:
        answer = httpx.post(f"{base}/predict", json=request, timeout=30)
        assert answer.status_code == 200, answer.text
        assert EXAMPLES[name][2](answer.json()["prediction"])
        if name == "penguins":  # a nullable feature may be null, as in training
            nulled = httpx.post(f"{base}/predict", json={**request, "sex": None}, timeout=30)
            assert nulled.status_code == 200, nulled.text
            assert set(nulled.json()["probabilities"]) == {"Adelie", "Chinstrap", "Gentoo"}
    if name == "penguins":  # the in-app API's example (docs/how-to/embed.md) runs as written
        shutil.copy(REPO / "examples/penguins/embedded.py", tmp_path / "embedded.py")
        ran = subprocess.run([sys.executable, "embedded.py"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=300)  # fmt: skip
        assert ran.returncode == 0, ran.stderr[-3000:]
        assert ran.stdout.startswith("v1: Gentoo") and "why: " in ran.stdout
        from mlrig.serving.embedded import load as embedded

        in_app = embedded(tmp_path / "mlrig.yaml").predict(request)
        assert in_app["probabilities"] == answer.json()["probabilities"]  # as the service said
