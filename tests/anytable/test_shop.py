"""A customer table with a transactions table, trained in process on real Feast and MLflow stores:
aggregates through config alone, int and composite keys, nulls, one assemble path for training,
batch and online, and a champion that later runs cannot change."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mlrig.components.config.loader import load
from mlrig.components.integrations.feast.repo import open_store
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.integrations.mlflow.registry import resolve
from mlrig.components.runtime import events, tables
from mlrig.components.runtime.catalog import CHAMPION, TRAINING_SET
from mlrig.components.score.core import BatchError
from mlrig.components.score.io import run as score_run
from mlrig.serving.predictor import Predictor, prediction_log
from tests.anytable.shop import score_as_a_task, write_shop
from tests.stages import run_stages

REQUESTS = [
    {"customer_id": 3, "region": "north", "plan": "plus", "as_of": "2024-11-03T01:30:00",
     "zip": "01003", "age": 41.0},
    {"customer_id": 7, "region": "south", "plan": "basic", "as_of": "2024-10-01T09:00:00",
     "zip": None, "age": None},  # nullable features may be null ...
    {"customer_id": 9, "region": "south", "plan": "plus", "as_of": "2024-09-01T12:00:00"},  # absent
]  # fmt: skip


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shop")
    config = write_shop(folder)
    result = run_stages(load(config), folder / "run1", eda_report=True)
    return folder, config, result


def _predict_all(config: Path) -> list[dict]:
    predictor = Predictor(load(config))
    return [predictor.predict(dict(r)) for r in REQUESTS]


def _score(
    config: Path, folder: Path, name: str, rows: list[dict] = REQUESTS, keep: list[str] = ()
) -> pd.DataFrame:
    batch = folder / f"{name}.csv"
    pd.DataFrame(rows).to_csv(batch, index=False)
    out = folder / f"scored-{name}"
    score_run(load(config).to_json(), str(batch), str(out), list(keep))
    return pd.read_parquet(out / "predictions.parquet")


def _new_york(values: pd.Series) -> pd.Series:
    """The documented rule: DST gaps shift forward, repeated hours are the later instance."""
    naive = pd.to_datetime(values)
    return naive.dt.tz_localize(
        "America/New_York", nonexistent="shift_forward", ambiguous=np.zeros(len(naive), bool)
    ).dt.tz_convert("UTC")


def test_aggregates_match_a_brute_force_oracle_and_never_see_the_event_itself(shop):
    folder, _, _ = shop
    training = tables.read_tables(folder / "run1/ts")[TRAINING_SET]
    tx = pd.read_csv(folder / "transactions.csv")
    tx["ts"] = _new_york(tx.ts)
    for _, row in training.sample(25, random_state=0).iterrows():
        mine = tx[(tx.customer_id == row.customer_id) & (tx.ts < row.as_of)]
        window = mine[mine.ts > row.as_of - pd.Timedelta(days=30)]
        assert row["spend__amount_count_all"] == len(mine)
        assert row["spend__amount_count_30d"] == len(window)
        assert row["spend__amount_sum_30d"] == pytest.approx(window.amount.sum())
        if len(mine):
            since = (row.as_of - mine.ts.max()).total_seconds() / 86400
            assert row["spend__days_since_last"] == pytest.approx(since, abs=1e-6)
        else:
            assert np.isnan(row["spend__days_since_last"])


def test_composite_key_view_and_text_codes(shop):
    folder, _, _ = shop
    training = tables.read_tables(folder / "run1/ts")[TRAINING_SET]
    prices = {("north", "basic"): 10.0, ("north", "plus"): 12.0, ("south", "basic"): 15.0,
              ("south", "plus"): 17.0}  # fmt: skip
    got = [prices[(r, p)] for r, p in zip(training.region, training.plan, strict=True)]
    assert training["plan_price__price"].tolist() == got
    assert training.zip.dropna().str.startswith("0").all()  # "01003" stays a code


def test_int_keys_online_nulls_accepted_and_unknown_entity_named(shop):
    _, config, result = shop
    answers = _predict_all(config)
    for answer in answers:
        assert answer["prediction"] in ("yes", "no") and 0 <= answer["probability"] <= 1
        assert answer["model_version"] == result["champion_version"]
    assert not answers[0]["missing_features"] or "spend" not in answers[0].get(
        "unknown_entities", []
    )
    unknown = Predictor(load(config)).predict({**REQUESTS[0], "customer_id": 99_999})
    assert "spend" in unknown["unknown_entities"]
    assert "spend__amount_count_all" in unknown["missing_features"]


def test_batch_scores_rows_with_null_and_absent_nullable_features(shop):
    folder, config, _ = shop
    scored = _score(config, folder, "nulls")
    assert len(scored) == 3 and set(scored.prediction) <= {"yes", "no"}
    assert scored.zip.iloc[0] == "01003"  # a code in a CSV keeps its leading zero
    assert scored.customer_id.tolist() == [3, 7, 9]  # an int key is written as an int


def test_a_folder_of_parts_scores_as_the_one_file(shop):
    """A partitioned batch (CSV parts, a _SUCCESS marker) scores row for row as one file."""
    folder, config, _ = shop
    whole = _score(config, folder, "whole")
    parts = folder / "parts"
    parts.mkdir(exist_ok=True)
    half = len(REQUESTS) // 2
    pd.DataFrame(REQUESTS[:half]).to_csv(parts / "part-0.csv", index=False)
    pd.DataFrame(REQUESTS[half:]).to_csv(parts / "part-1.csv", index=False)
    (parts / "_SUCCESS").write_text("")
    score_run(load(config).to_json(), str(parts), str(folder / "scored-parts"), [])
    pd.testing.assert_frame_equal(
        pd.read_parquet(folder / "scored-parts/predictions.parquet"), whole
    )


def test_a_batch_scored_a_row_at_a_time_equals_it_scored_whole(shop, monkeypatch, tmp_path):
    """Chunks of one row: a null zip in one chunk and a code in the next, a rejected row between
    scored ones; the appended files hold what one pass writes, and progress is reported."""
    folder, config, _ = shop
    rows = [REQUESTS[1], {**REQUESTS[0], "region": None}, *REQUESTS]  # the second is rejected
    whole = _score(config, folder, "in-one", rows)
    monkeypatch.setenv("MLRIG_SCORE_CHUNK_ROWS", "1")
    monkeypatch.setenv("MLRIG_EVENTS_FILE", str(tmp_path / "events.jsonl"))
    chunked = _score(config, folder, "by-row", rows)
    pd.testing.assert_frame_equal(chunked, whole)
    assert len(chunked) == 4 and chunked.zip.tolist()[:2] == [None, "01003"]
    rejected = pd.read_parquet(folder / "scored-by-row" / "rejected.parquet")
    assert len(rejected) == 1 and rejected.region.isna().all()
    summary = json.loads((folder / "scored-by-row" / "summary.json").read_text())
    assert (summary["scored"], summary["rejected"]) == (4, 1)
    assert (
        summary["reasons"]
        == json.loads((folder / "scored-in-one/summary.json").read_text())["reasons"]
    )
    done = [e["done"] for e in events.read(tmp_path / "events.jsonl") if "done" in e]
    assert done == [1, 2, 3, 4, 5]


def test_a_batch_checked_in_a_forked_process_writes_what_the_thread_writes(shop, tmp_path):
    """As a task runs it, the stage checks its chunks (here two rows each) in a forked process;
    the files are those of the in-process run, and an error in the checks reaches the stage
    with its type and message."""
    folder, config, _ = shop
    rows = [REQUESTS[1], {**REQUESTS[0], "region": None}, *REQUESTS]  # the second is rejected
    threaded = _score(config, folder, "threaded", rows)
    events_file = tmp_path / "events.jsonl"
    env = {"MLRIG_SCORE_CHUNK_ROWS": "2", "MLRIG_EVENTS_FILE": str(events_file)}
    done = score_as_a_task(config, folder / "threaded.csv", folder / "scored-forked", env)
    assert done.returncode == 0, done.stderr[-3000:]
    pd.testing.assert_frame_equal(
        pd.read_parquet(folder / "scored-forked/predictions.parquet"), threaded
    )
    assert pd.read_parquet(folder / "scored-forked/rejected.parquet").region.isna().tolist() == [
        True
    ]
    finished = [e for e in events.read(events_file) if e.get("status") == "done"]
    assert finished[-1]["outputs"]["checks_in"] == "process"
    bad = folder / "unknown-column.csv"
    pd.DataFrame([{**REQUESTS[0], "row": 1}]).to_csv(bad, index=False)
    failed = score_as_a_task(config, bad, folder / "scored-bad", env)
    assert failed.returncode != 0
    assert "BatchError: unknown columns ['row']" in failed.stderr


def test_batch_with_its_labels_or_with_every_row_rejected(shop):
    """A file with the target column (a backtest) is scored, the labels beside the predictions;
    a file whose every row is rejected gives an empty predictions file, not a crash."""
    folder, config, _ = shop
    labels = ["yes", "no", "no"]
    labelled = [{**r, "churned": y, "row": f"r{i}"}
                for i, (r, y) in enumerate(zip(REQUESTS, labels, strict=True))]  # fmt: skip
    with pytest.raises(BatchError, match=r"unknown columns \['row'\].*--keep"):
        _score(config, folder, "labelled", labelled)
    scored = _score(config, folder, "labelled", labelled, keep=["row"])
    assert scored.churned.tolist() == labels and len(scored.prediction) == 3
    assert scored.columns[0] == "row" and scored.row.tolist() == ["r0", "r1", "r2"]
    with pytest.raises(BatchError, match=r"--keep: \['nope'\] not among"):
        _score(config, folder, "labelled", labelled, keep=["nope"])
    bad = [{**r, "region": None} for r in REQUESTS]  # region is required
    none = _score(config, folder, "rejected", bad)
    assert none.empty and {"prediction", "probability", "customer_id"} <= set(none.columns)
    summary = json.loads((folder / "scored-rejected" / "summary.json").read_text())
    assert summary["scored"] == 0 and summary["rejected"] == 3


def test_offline_and_online_features_equal_the_training_row_across_time_zones(shop):
    """One assemble step: a training row, the same row batch-scored, and the same row served
    online (naive New York time in the request) see the same features, when nothing changed
    for that customer between the row's time and now."""
    folder, config, _ = shop
    from mlrig.components.contract.assemble import assemble
    from mlrig.components.integrations.feast import feast_store
    from mlrig.components.integrations.feast.online_store import OnlineFeatures
    from mlrig.components.integrations.mlflow.registry import load_version

    loaded = load(config)
    mlflow = tracking.configure(loaded.place)
    pinned = load_version(mlflow, "shop", resolve(mlflow, "shop", CHAMPION))
    contract = pinned.contract
    training = tables.read_tables(folder / "run1/ts")[TRAINING_SET]
    tx = pd.read_csv(folder / "transactions.csv")
    last = _new_york(tx.groupby("customer_id").ts.max())
    late = training[training.customer_id.map(last).lt(training.as_of - pd.Timedelta(days=31))].head(
        5
    )
    assert len(late) >= 3
    store = open_store(loaded.place)
    naive = late.as_of.dt.tz_convert("America/New_York").dt.tz_localize(None)
    requests = late[list(contract.request_fields)].assign(
        as_of=naive.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    )
    offline = assemble(contract, requests, feast_store.OfflineFeatures(store)).frame
    online = assemble(contract, requests, OnlineFeatures(store)).frame
    expected = late[contract.inputs].reset_index(drop=True)
    pd.testing.assert_frame_equal(offline, expected, check_dtype=False)
    pd.testing.assert_frame_equal(online, expected, check_dtype=False)


def test_one_row_path_answers_exactly_as_the_frame_path(shop):
    """Serving's one-row path (scalar assemble, Feast's online_read, the compiled model) against
    assemble() + get_online_features + the model pipeline: int keys, a composite key, recency,
    counts that are 0 when missing, nulls, an unknown customer, zoned and DST-edge times."""
    from mlrig.components.contract.assemble import assemble
    from mlrig.components.contract.assemble_one import OneRow

    folder, config, _ = shop
    predictor = Predictor(load(config))
    assert predictor.compiled is not None
    contract = predictor.contract
    for request in _varied_requests(folder, contract):
        got = predictor.rows._one(request, predictor.features, None)  # never the fallback
        built = OneRow.of(assemble(contract, pd.DataFrame([request]), predictor.features))
        assert got.missing == built.missing
        for name in contract.inputs:
            a, b = got.inputs[name], built.inputs[name]
            assert _same_input(a, b), (name, a, b)
        fast, slow = predictor.predict(dict(request)), predictor.predict_via_frame(dict(request))
        assert fast == slow


def _same_input(a, b) -> bool:
    """Both missing, equal texts (a code such as "01003" is text), or numbers equal to 1e-12."""
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a == pytest.approx(b, rel=1e-12)


def _varied_requests(folder, contract) -> list[dict]:
    """The example requests, an unknown customer, a DST gap, a zoned time, and 20 training rows
    (with their nulls and aware times)."""
    training = tables.read_tables(folder / "run1/ts")[TRAINING_SET].sample(20, random_state=1)
    requests = [dict(r) for r in REQUESTS]
    requests += [{**REQUESTS[0], "customer_id": 99_999}, {**REQUESTS[0], "as_of": "2024-03-10T02:30"},
                 {**REQUESTS[0], "as_of": "2024-06-01T12:00:00-07:00", "age": 30}]  # fmt: skip
    for row in training[list(contract.request_fields)].to_dict("records"):
        requests.append({k: (None if pd.isna(v) else v) for k, v in row.items()})
    return requests


def test_a_batch_answers_as_its_rows_one_by_one_and_logs_every_row(shop):
    """predict_many (what /predict_batch runs) gives each row the answer predict gives it, and
    logs every row under its own time-ordered request id."""
    folder, config, _ = shop
    loaded = load(config)
    predictor = Predictor(loaded, log=prediction_log(loaded))
    requests = _varied_requests(folder, predictor.contract)
    batch = predictor.predict_many([dict(r) for r in requests])
    assert len(batch) == len(requests)
    assert any(a.get("unknown_entities") for a in batch) and any(
        a["missing_features"] for a in batch
    )
    for request, got in zip(requests, batch, strict=True):
        one = predictor.predict(dict(request))
        assert {k: v for k, v in got.items() if k != "request_id"} == {
            k: v for k, v in one.items() if k != "request_id"
        }
        assert got["request_id"] < one["request_id"]  # ids are ordered by time
    ids = [a["request_id"] for a in batch]
    assert len(set(ids)) == len(ids) and all(re.fullmatch("[0-9a-f]{32}", i) for i in ids)
    logged = predictor.log.read().set_index("request_id")
    assert set(ids) <= set(logged.index)
    assert (logged.loc[ids, "model"] == "shop").all()


def test_online_reads_equal_feasts_get_online_features(shop):
    """fetch() reads each view with Feast's online_read; Feast's generic get_online_features
    gives the same values for the same rows (int keys, a composite key, an unknown customer,
    repeated keys)."""
    folder, config, _ = shop
    predictor = Predictor(load(config))
    fs = predictor.contract.features
    training = tables.read_tables(folder / "run1/ts")[TRAINING_SET].head(40)
    keys = training[["customer_id", "region", "plan"]].copy()
    keys.loc[len(keys)] = [99_999, "north", "plus"]  # unknown customer
    keys = pd.concat([keys, keys.head(3)], ignore_index=True)  # repeated keys
    keys["customer_id"] = keys.customer_id.astype("int64")
    fast = predictor.features.fetch(fs, keys)
    generic = predictor.features.fetch_via_service(fs, keys)
    assert sorted(fast.columns) == sorted(generic.columns)
    pd.testing.assert_frame_equal(fast, generic[fast.columns], check_dtype=False)
    assert fast.iloc[40].isna().sum() >= 4  # the unknown customer's spend features


def test_later_runs_never_change_what_the_champion_serves(shop, tmp_path):
    """A run whose challenger loses, a sampled run and a run that fails mid-way leave the
    champion's answers (online and batch) byte for byte as they were."""
    folder, config, first = shop
    before_online = _predict_all(config)
    before_batch = _score(config, folder, "before")

    # new data (a different feature set), a challenger that cannot win by the margin
    write_shop(folder, seed=1)
    data = yaml.safe_load(config.read_text())
    data["model"]["gate"] = {"margin": 1.0}
    config.write_text(yaml.safe_dump(data))
    lost = run_stages(load(config), folder / "run2")
    assert not lost["promoted"] and lost["champion_version"] == first["champion_version"]
    assert "on the same rows" in lost["reason"]

    # a sampled run with the margin gone never replaces the champion either
    data["model"]["gate"] = {"margin": 0.0}
    data["dataset"]["sample_rows"] = 120
    config.write_text(yaml.safe_dump(data))
    sampled = run_stages(load(config), folder / "run3")
    assert not sampled["promoted"] and "sampled" in sampled["reason"]

    # a run that fails in training, after writing new feature data
    write_shop(folder, seed=2)
    data["dataset"]["sample_rows"] = None
    data["model"]["candidates"] = {"logistic_regression": {"C": ["not-a-number"]}}
    config.write_text(yaml.safe_dump(data))
    with pytest.raises(Exception):  # noqa: B017 (any failure inside fitting)
        run_stages(load(config), folder / "run4")

    assert _predict_all(config) == before_online
    pd.testing.assert_frame_equal(_score(config, folder, "after"), before_batch)
    shutil.rmtree(folder / "run4", ignore_errors=True)


def test_pinned_version_is_served_instead_of_the_alias(shop, monkeypatch):
    """What `mlrig deploy` sets on the pods: MLRIG_MODEL_VERSION pins a version, so a rollback
    to the previous annotation serves the previous version again."""
    _, config, _ = shop
    loaded = load(config)
    mlflow = tracking.configure(loaded.place)
    versions = [int(v.version) for v in mlflow.MlflowClient().search_model_versions("name='shop'")]
    assert len(versions) >= 2
    oldest = min(versions)
    monkeypatch.setenv("MLRIG_MODEL_VERSION", str(max(versions)))
    assert Predictor(loaded).predict(dict(REQUESTS[0]))["model_version"] == max(versions)
    monkeypatch.setenv("MLRIG_MODEL_VERSION", str(oldest))
    assert Predictor(loaded).predict(dict(REQUESTS[0]))["model_version"] == oldest


def test_without_an_event_time_features_are_joined_as_of_ingestion(tmp_path):
    config = write_shop(tmp_path, event_timestamp=None, date_parts=None)
    result = run_stages(load(config), tmp_path / "run")
    assert result["promoted"]
    runs = tables.read_json(tmp_path / "run/model", "run.json")
    assert runs["holdout"].startswith("random 20%") and "shuffled" in runs["cv_scheme"]
    training = tables.read_tables(tmp_path / "run/ts")[TRAINING_SET]
    tx = pd.read_csv(tmp_path / "transactions.csv")
    counts = tx.groupby("customer_id").size()
    expected = training.customer_id.map(counts).fillna(0)
    assert training["spend__amount_count_all"].tolist() == expected.tolist()  # all history
    request = {k: v for k, v in REQUESTS[0].items() if k != "as_of"}
    answer = Predictor(load(config)).predict(request)
    assert answer["prediction"] in ("yes", "no")
