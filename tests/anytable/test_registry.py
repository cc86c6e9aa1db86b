"""The registry as a user tool: two gate decisions and a promotion by hand in `mlrig model
history`; the threshold in a model's contract is the one serving and batch scoring apply."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mlrig.cli import app
from mlrig.components.config.loader import load
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.integrations.mlflow.registry import load_version
from mlrig.components.score.io import run as score_run
from mlrig.serving.predictor import Predictor
from tests.anytable.shop import write_shop
from tests.anytable.test_shop import REQUESTS
from tests.stages import run_stages


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("registry")
    config = write_shop(folder)
    data = yaml.safe_load(config.read_text())
    data["model"]["threshold"] = {"rule": "max_f1"}
    config.write_text(yaml.safe_dump(data))
    first = run_stages(load(config), folder / "run1")
    data["model"]["gate"] = {"margin": 1.0}
    config.write_text(yaml.safe_dump(data))
    second = run_stages(load(config), folder / "run2")
    return folder, config, first, second


def _cli(config, *args):
    result = CliRunner().invoke(app, [*args, "-c", str(config)])
    assert result.exit_code == 0, result.output
    return result.output


def test_history_shows_both_gate_decisions_and_a_promotion_by_hand(two_runs):
    _, config, first, second = two_runs
    assert first["promoted"] and not second["promoted"]
    entries = [json.loads(line) for line in _cli(config, "model", "history", "--json").splitlines()]
    assert [e["moved"] for e in entries] == [True, False]
    assert (
        entries[1]["numbers"]["challenger_version"] == 2 and "does not beat" in entries[1]["reason"]
    )
    refused = CliRunner().invoke(app, ["model", "promote", "1", "--reason", "x", "-c", str(config)])
    assert refused.exit_code == 1 and "already the champion" in refused.output
    _cli(config, "model", "promote", "2", "--reason", "reviewed by hand")
    entries = [json.loads(line) for line in _cli(config, "model", "history", "--json").splitlines()]
    assert entries[-1]["to"] == 2 and entries[-1]["from"] == 1
    assert (
        entries[-1]["reason"] == "reviewed by hand" and "mlrig model promote" in entries[-1]["by"]
    )
    listing = [json.loads(line) for line in _cli(config, "model", "list", "--json").splitlines()]
    assert [r["aliases"] for r in listing] == ["", "challenger, champion"]
    assert listing[0]["gate"] == "no champion yet" and listing[0]["holdout roc_auc"]
    assert "model shop" in _cli(config, "model", "list")  # the table for people
    first = " ".join(_cli(config, "features", "materialize").split())  # the CronJob
    assert "materialized feature set" in first and "transactions +0" not in first  # all rows
    cron = " ".join(_cli(config, "features", "materialize").split())  # past the watermark
    assert "transactions +0" in cron
    full = " ".join(_cli(config, "features", "materialize", "--full").split())
    assert "transactions +0" not in full  # every row reread
    assert Predictor(load(config)).predict(dict(REQUESTS[0]))["model_version"] == 2


def test_the_contract_threshold_is_what_serving_and_batch_apply(two_runs):
    folder, config, _, _ = two_runs
    loaded = load(config)
    mlflow = tracking.configure(loaded.place)
    threshold = load_version(mlflow, "shop", 1).contract.threshold
    assert threshold != 0.5  # chosen by max F1 on out-of-fold predictions
    mlflow.MlflowClient().set_registered_model_alias("shop", "champion", "1")
    answers = [Predictor(loaded).predict(dict(r)) for r in REQUESTS]
    for answer in answers:
        assert answer["threshold"] == threshold
        assert (answer["prediction"] == "yes") == (answer["probability"] >= threshold)
    pd.DataFrame(REQUESTS).to_csv(folder / "batch.csv", index=False)
    score_run(loaded.to_json(), str(folder / "batch.csv"), str(folder / "scored"))
    scored = pd.read_parquet(folder / "scored/predictions.parquet")
    assert ((scored.prediction == "yes") == (scored.probability >= threshold)).all()


def test_batch_scoring_honours_the_pinned_model_version(two_runs, monkeypatch):
    folder, config, _, _ = two_runs
    loaded = load(config)
    mlflow = tracking.configure(loaded.place)
    mlflow.MlflowClient().set_registered_model_alias("shop", "champion", "2")
    pd.DataFrame(REQUESTS).to_csv(folder / "pinned.csv", index=False)
    monkeypatch.setenv("MLRIG_MODEL_VERSION", "1")
    summary = score_run(loaded.to_json(), str(folder / "pinned.csv"), str(folder / "pinned"))
    assert summary["model_version"] == 1
    assert set(pd.read_parquet(folder / "pinned/predictions.parquet").model_version) == {1}
    monkeypatch.setenv("MLRIG_MODEL_VERSION", "latest")
    with pytest.raises(ValueError, match="MLRIG_MODEL_VERSION: 'latest' is not a model version"):
        score_run(loaded.to_json(), str(folder / "pinned.csv"), str(folder / "pinned"))
    monkeypatch.delenv("MLRIG_MODEL_VERSION")
    assert score_run(loaded.to_json(), str(folder / "pinned.csv"), str(folder / "pinned"))[
        "model_version"] == 2  # fmt: skip


class _Payload:
    """Unpickling this runs code: it must never happen for a changed model file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_replaced_model_file_is_refused_before_it_is_unpickled(two_runs, tmp_path):
    import pickle

    from mlrig.components.integrations.mlflow.integrity import ArtifactMismatch

    folder, config, _, second = two_runs
    loaded = load(config)
    mlflow = tracking.configure(loaded.place)
    version = second["version"]
    tags = mlflow.MlflowClient().get_model_version("shop", str(version)).tags
    assert len(tags["mlrig.sha256"]) == 64  # recorded at registration
    load_version(mlflow, "shop", version)  # untouched: loads
    model_id = mlflow.MlflowClient().get_model_version("shop", str(version)).source
    model_id = model_id.removeprefix("models:/")
    stored = next((folder / "mlartifacts").rglob(f"{model_id}/artifacts/model.skops"), None)
    assert stored is not None
    original = stored.read_bytes()
    marker = tmp_path / "payload-ran"
    stored.write_bytes(pickle.dumps(_Payload(str(marker))))  # what an unauthenticated PUT does
    try:
        with pytest.raises(ArtifactMismatch, match="not the .* recorded at registration"):
            load_version(mlflow, "shop", version)
        with pytest.raises(ArtifactMismatch):
            Predictor(loaded, version)
        assert not marker.exists()
    finally:
        stored.write_bytes(original)
    load_version(mlflow, "shop", version)
