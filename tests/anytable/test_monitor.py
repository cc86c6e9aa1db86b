"""The prediction log and drift of served predictions against the training reference, on the shop
tables: no alarm for rows like the training data, the shifted column named when one shifts;
labels that arrive later are joined by request id or by entity keys and event time."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from mlrig.cli import app
from mlrig.components.config.loader import LoadedConfig, load
from mlrig.components.monitor.check import NothingToCheck, drift_check
from mlrig.components.monitor.predlog import PredictionLog
from mlrig.components.runtime import tables
from mlrig.components.runtime.catalog import TRAINING_SET
from mlrig.serving.predictor import Predictor, prediction_log
from tests.anytable.shop import write_shop
from tests.stages import run_stages


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("monitor")
    config = write_shop(folder, customers=600)
    loaded = load(config)
    run_stages(loaded, folder / "run")
    training = tables.read_tables(folder / "run/ts")[TRAINING_SET]
    requests = training[["customer_id", "region", "plan", "as_of", "zip", "age"]].copy()
    requests["as_of"] = requests.as_of.dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return folder, loaded, requests, training


def _serve(loaded, rows: pd.DataFrame) -> list[dict]:
    predictor = Predictor(loaded, log=prediction_log(loaded))
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    return [predictor.predict(r) for r in records]


def _log_like_training(loaded, training: pd.DataFrame, contract_inputs: list[str]) -> None:
    """Traffic like the training data: its model inputs, logged as the service logs them."""
    from mlrig.components.integrations.mlflow import tracking
    from mlrig.components.integrations.mlflow.registry import load_alias
    from mlrig.components.train.tracked import score_column

    mlflow = tracking.configure(loaded.place)
    pinned = load_alias(mlflow, "shop", "champion")
    x = training[contract_inputs]
    score = score_column(pinned.model, pinned.contract, x)
    log = prediction_log(loaded)
    for row, s in zip(x.to_dict("records"), score, strict=True):
        log.log(model="shop", version=pinned.version, keys={}, request={}, features=row,
                prediction={"probability": float(s)})  # fmt: skip
    log.close()


def test_drift_check_is_quiet_for_training_like_rows_and_names_a_shift(served):
    folder, loaded, _, training = served
    with pytest.raises(NothingToCheck):
        drift_check(loaded)
    inputs = [c for c in training.columns if "__" in c or c in ("zip", "age")]
    inputs += [c for c in training.columns if c.startswith("as_of_")]
    start = pd.Timestamp.now(tz="UTC").isoformat()
    early = training.sort_values("as_of").head(int(len(training) * 0.8))  # the training part
    _log_like_training(loaded, early, inputs)
    quiet = drift_check(loaded, since=start, out_dir=folder / "quiet")
    assert quiet["current_rows"] == len(early) and quiet["drifted"] == []
    assert (folder / "quiet/drift.html").read_text().count("data:image/png;base64,") == 2
    reasons = quiet["reasons"]  # traffic like training: the model leans on its inputs as it did
    assert reasons["moved"] == [] and not reasons["reasons_moved_inputs_stable"]
    assert set(reasons["shares"]) == set(inputs) - {"as_of"}
    assert "share of mean |contribution|" in (folder / "quiet/drift.html").read_text()
    shifted_start = pd.Timestamp.now(tz="UTC").isoformat()
    _log_like_training(loaded, early.assign(age=early.age + 40), inputs)
    loud = drift_check(loaded, since=shifted_start, out_dir=folder / "loud")
    assert "age" in loud["drifted"]
    assert json.loads((folder / "loud/drift.json").read_text())["drifted"] == loud["drifted"]


def test_every_served_prediction_is_in_the_log_and_labels_join_later(served):
    folder, loaded, requests, training = served
    log = PredictionLog(loaded.path(".mlrig") / "predictions" / "predictions.db")
    before = len(log.read())
    answers = _serve(loaded, requests.head(20))
    logged = log.read()
    assert len(logged) == before + 20
    mine = logged.set_index("request_id").loc[[a["request_id"] for a in answers]]
    assert (mine.version == answers[0]["model_version"]).all()
    by_id = pd.DataFrame({"request_id": [a["request_id"] for a in answers[:5]],
                          "churned": training.churned.head(5).tolist()})  # fmt: skip
    assert log.add_labels(by_id, "churned") == 5
    log.close()


def test_check_says_retrain_with_the_numbers_when_labelled_windows_decay(served):
    from mlrig.components.monitor.check import decide

    folder, loaded, _, training = served
    inputs = [c for c in training.columns if "__" in c or c in ("zip", "age")]
    inputs += [c for c in training.columns if c.startswith("as_of_")]
    start = pd.Timestamp.now(tz="UTC").isoformat()
    rows = training.sort_values("as_of").head(300)
    _log_like_training(loaded, rows, inputs)
    log = prediction_log(loaded)
    logged = log.read(since=start)
    truth = rows.churned.tolist()
    log.add_labels(pd.DataFrame({"request_id": logged.request_id, "churned": truth}), "churned")
    keep = decide(loaded, since=start)
    assert not keep["retrain"], keep["reasons"]
    flipped = ["no" if t == "yes" else "yes" for t in truth]
    log.add_labels(pd.DataFrame({"request_id": logged.request_id, "churned": flipped}), "churned")
    log.close()
    retrain = decide(loaded, since=start)
    assert retrain["retrain"] and any("window" in r and "roc_auc" in r for r in retrain["reasons"])
    # a champion that has not answered monitor.min_days_served days yet (the module's requests
    # span months) is reported, not retrained
    cfg = loaded.config
    young = LoadedConfig(cfg.model_copy(update={"monitor": cfg.monitor.model_copy(
        update={"min_days_served": 10_000})}), loaded.root)  # fmt: skip
    held = decide(young, since=start)
    assert not held["retrain"] and held["reasons"] == retrain["reasons"]
    assert "fewer than monitor.min_days_served (10000)" in held["held"]


def test_labels_from_a_csv_join_by_keys_and_time_beside_a_row_without_its_key(served, tmp_path):
    """`mlrig monitor labels FILE` reads ids and keys as text: a CSV key column with a gap would
    otherwise be read as floats ("3.0") and match no logged prediction."""
    from typer.testing import CliRunner

    from mlrig.cli import app
    from mlrig.components.monitor.predlog import log_path

    folder, loaded, requests, _ = served
    answers = _serve(loaded, requests.tail(3))
    ids = [a["request_id"] for a in answers]
    log = PredictionLog(log_path(loaded.place))
    logged = log.read().set_index("request_id").loc[ids]
    rows = [{**json.loads(keys), "event_time": when, "churned": "yes"}
            for keys, when in zip(logged["keys"], logged.event_time, strict=True)]  # fmt: skip
    rows.append({**rows[0], "customer_id": None, "churned": "no"})  # no key: matches nothing
    rows.append({**rows[1], "churned": None})  # not known yet: leaves the label it has
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    config = str(folder / "mlrig.yaml")
    result = CliRunner().invoke(
        app, ["monitor", "labels", str(tmp_path / "labels.csv"), "-c", config]
    )
    assert result.exit_code == 0, result.output
    assert "labelled 3 of 5 rows; 1 without a label yet" in " ".join(result.output.split())
    labelled = log.read().set_index("request_id").loc[ids, "label"]
    log.close()
    assert [json.loads(v) for v in labelled] == ["yes", "yes", "yes"]
    missing = CliRunner().invoke(
        app, ["monitor", "labels", str(tmp_path / "nope.csv"), "-c", config]
    )
    assert missing.exit_code == 2 and "no such file" in " ".join(missing.output.split())


def test_labels_join_by_the_instant_whatever_offset_or_notation_they_are_written_in(served):
    """Labels written as the client knows its rows (not the log's own strings): the request's
    time with a New York offset, as naive local time (the dataset's timezone), and as Z."""
    folder, loaded, requests, _ = served
    sent = requests.iloc[40:43].reset_index(drop=True)
    answers = _serve(loaded, sent)
    utc = pd.to_datetime(sent.as_of, utc=True)
    local = utc.dt.tz_convert("America/New_York")
    written = [local[0].isoformat(),  # 2024-...T..-05:00 (or -04:00)
               local[1].tz_localize(None).isoformat(sep=" "),  # naive: the dataset's local time
               utc[2].strftime("%Y-%m-%dT%H:%M:%SZ")]  # fmt: skip
    labels = sent[["customer_id", "region", "plan"]].assign(event_time=written, churned="yes")
    log = prediction_log(loaded)
    assert log.add_labels(labels, "churned", "America/New_York") == 3
    got = log.read().set_index("request_id").loc[[a["request_id"] for a in answers], "label"]
    assert [json.loads(v) for v in got] == ["yes"] * 3
    later = labels.assign(event_time=[t.isoformat() for t in utc + pd.Timedelta("1s")])
    assert log.add_labels(later, "churned", "America/New_York") == 0  # another instant
    log.close()


def test_since_compares_instants_not_strings(served):
    import time

    folder, loaded, _, _ = served
    log = prediction_log(loaded)
    start = pd.Timestamp.now(tz="UTC")
    log.log(model="shop", version=1, keys={}, request={}, features={}, prediction={})
    time.sleep(0.05)
    cut = pd.Timestamp.now(tz="UTC")
    time.sleep(0.05)
    log.log(model="shop", version=1, keys={}, request={}, features={}, prediction={})
    in_paris = cut.tz_convert("Europe/Paris").isoformat()  # +01:00 sorts after the UTC text
    assert len(log.read(since=in_paris)) == 1
    assert len(log.read(since=cut.tz_localize(None).isoformat())) == 1  # naive: UTC
    assert len(log.read(since=start.tz_convert("Asia/Tokyo").isoformat())) == 2
    with pytest.raises(ValueError, match="since: 'yesterday' is not an ISO time"):
        log.read(since="yesterday")
    log.close()


def test_prune_deletes_predictions_older_than_the_retention(served):
    """`mlrig monitor prune` (and `monitor check`) delete what was logged more than
    monitor.log_retention_days ago; recent predictions stay."""
    import sqlite3

    from typer.testing import CliRunner

    from mlrig.cli import app
    from mlrig.components.monitor.predlog import log_path

    folder, loaded, requests, _ = served
    old = [a["request_id"] for a in _serve(loaded, requests.head(4))]
    recent = [a["request_id"] for a in _serve(loaded, requests.head(2))]
    with sqlite3.connect(log_path(loaded.place)) as con:  # as if logged in 2020
        con.executemany("update predictions set logged_at = '2020-01-01T00:00:00+00:00' "
                        "where request_id = ?", [(i,) for i in old])  # fmt: skip
    result = CliRunner().invoke(app, ["monitor", "prune", "-c", str(folder / "mlrig.yaml")])
    assert result.exit_code == 0, result.output
    assert "deleted 4 predictions logged before" in " ".join(result.output.split())
    left = set(PredictionLog(log_path(loaded.place)).read().request_id)
    assert not set(old) & left and set(recent) <= left


def test_a_replay_refuses_a_champion_trained_on_the_months_it_would_replay(served):
    """The champion here was trained on every event; a replay from the middle of the data would
    score events that model has seen, so it stops and says why and what to do."""
    from mlrig.pipelines.replay import replay

    _, loaded, _, training = served
    middle = training["as_of"].sort_values().iloc[len(training) // 2]
    with pytest.raises(
        ValueError, match=r"--start: the champion, shop v1, was trained on events up to"
    ):
        replay(loaded, str(middle), None, trainer=lambda _: {}, train_first=False)


def test_a_version_replayed_on_its_own_traffic_agrees_everywhere(served):
    from mlrig.components.monitor.compare import CannotCompare, compare

    folder, loaded, requests, _ = served
    _serve(loaded, requests.head(30))
    result = compare(loaded.place, "shop", 1, 1)
    assert result["rows"] >= 30 and result["agreement"] == 1.0
    assert result["mean_abs_score_difference"] == 0.0
    if result["labelled_rows"] >= 2:
        assert result["difference"] == 0 and result["verdict"].startswith("no difference shown")
    said = CliRunner().invoke(
        app, ["monitor", "compare", "1", "-c", str(loaded.root / "mlrig.yaml")]
    )
    assert said.exit_code == 0, said.output
    assert '"agreement": 1.0' in said.output
    with pytest.raises(CannotCompare, match="no logged predictions of v7"):
        compare(loaded.place, "shop", 1, 7)
