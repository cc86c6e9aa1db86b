"""The prediction log's upkeep: old predictions are deleted in chunks, newer ones kept."""

from __future__ import annotations

import pandas as pd

from mlrig.components.monitor.predlog import PredictionLog, features_of


def _logged(log: PredictionLog, rows: int, feature: str) -> list[str]:
    """Rows 0..rows-1 logged for version 1, keyed k=i, one input `feature`=i."""
    return [
        log.log(
            model="m",
            version=1,
            keys={"k": i},
            request={},
            features={feature: i},
            prediction={"probability": 0.5},
        )  # fmt: skip
        for i in range(rows)
    ]


def test_prune_deletes_only_what_was_logged_before_the_cutoff_in_chunks(tmp_path):
    log = PredictionLog(tmp_path / "predictions.db")
    ids = _logged(log, 12, "label")
    logged = log.read()
    cutoff = logged.set_index("request_id").loc[ids[7], "logged_at"]
    assert log.prune(cutoff, chunk=3) == 7  # three full chunks and one of one
    left = log.read()
    assert left.request_id.tolist() == ids[7:]
    # an input named like a log column ('label') stays apart from the log's own label
    assert features_of(left)["label"].tolist() == list(range(7, 12))
    assert left["label"].isna().all()
    assert log.prune(cutoff) == 0
    log.vacuum()
    log.close()


def test_read_bounds_what_it_reads_by_version_label_and_latest_rows(tmp_path):
    log = PredictionLog(tmp_path / "predictions.db")
    ids = [
        log.log(
            model="m",
            version=1 + i % 2,
            keys={},
            request={},
            features={"x": i},
            prediction={"probability": i / 10},
        )  # fmt: skip
        for i in range(10)
    ]
    log.add_labels(pd.DataFrame({"request_id": ids[:3], "y": [1, 0, 1]}), "y")
    latest = log.read(version=1, latest=3, columns=["request_id", "score"])
    assert latest.request_id.tolist() == [ids[4], ids[6], ids[8]]  # oldest first
    assert list(latest.columns) == ["request_id", "score"]
    assert log.count(version=1) == 5 and log.count() == 10
    labelled = log.read(labelled=True)
    assert labelled.request_id.tolist() == ids[:3]
    since = log.read().logged_at.iloc[7]
    assert log.read(since, version=2).request_id.tolist() == [ids[7], ids[9]]
    assert log.count(since, version=2) == 2
    log.close()


def test_a_batch_without_entity_keys_is_logged_row_by_row(tmp_path):
    """A table with no entity keys gives a key frame without columns: each row is still logged
    (pandas' to_dict gives no records for it, which failed a replay of such a table)."""
    log = PredictionLog(tmp_path / "predictions.db")
    n = 3
    ids = log.log_many(
        model="m",
        version=1,
        keys=pd.DataFrame(index=range(n)),
        requests=pd.DataFrame({"x": [1.0, 2.0, 3.0]}),
        features=pd.DataFrame({"x": [1.0, 2.0, 3.0]}),
        predictions=pd.DataFrame({"prediction": [0.1, 0.2, 0.3]}),
        event_times=pd.Series(pd.date_range("2024-01-01", periods=n, tz="UTC")),
    )
    logged = log.read().set_index("request_id").loc[ids]
    assert logged["score"].tolist() == [0.1, 0.2, 0.3]
    assert features_of(logged.reset_index())["x"].tolist() == [1.0, 2.0, 3.0]
    log.close()


def test_the_watched_score_is_a_probability_never_a_class_label():
    from mlrig.components.monitor.predlog import score_of

    assert score_of({"prediction": 1, "probability": 0.3}) == 0.3  # binary
    # multiclass, served: the top class's probability, also when the labels are numbers
    assert score_of({"prediction": 2, "probabilities": {"1": 0.2, "2": 0.5, "3": 0.3}}) == 0.5
    # multiclass, scored in batch (probability_<class> columns)
    assert score_of({"prediction": "a", "probability_a": 0.6, "probability_b": 0.4}) == 0.6
    assert score_of({"prediction": 12.5}) == 12.5  # regression: the value
    assert score_of({"prediction": "low"}) is None and score_of({"prediction": True}) is None
    assert score_of({"prediction": 2, "probabilities": {"1": None}}) is None


def test_event_range_spans_a_versions_event_times_at_any_offset(tmp_path):
    log = PredictionLog(tmp_path / "predictions.db")
    for version, when in [(1, pd.Timestamp("2013-06-01 08:00", tz="America/New_York")),
                          (1, pd.Timestamp("2013-06-04 20:00", tz="Europe/Berlin")),
                          (2, pd.Timestamp("2013-07-01 00:00", tz="UTC"))]:  # fmt: skip
        log.log(model="m", version=version, keys={}, request={}, features={},
                prediction={"probability": 0.5}, event_time=when)  # fmt: skip
    log.log(model="m", version=3, keys={}, request={}, features={}, prediction={})
    assert log.event_range(1) == (pd.Timestamp("2013-06-01 12:00", tz="UTC"),
                                  pd.Timestamp("2013-06-04 18:00", tz="UTC"))  # fmt: skip
    assert log.event_range(2) == (pd.Timestamp("2013-07-01", tz="UTC"),) * 2
    assert log.event_range(3) is None  # no event time
    assert log.event_range(4) is None  # never served
    log.close()


def test_a_label_not_yet_known_leaves_its_prediction_unlabelled(tmp_path):
    """A labels file with blanks (NaN, None, pandas' NA) labels only the rows that have one: a
    blank was stored as the label 'NaN', a wrong answer in every window it fell in."""
    log = PredictionLog(tmp_path / "predictions.db")
    ids = _logged(log, 4, "x")
    labels = pd.DataFrame({"request_id": ids, "y": pd.array(["yes", None, pd.NA, "no"])})
    assert log.add_labels(labels, "y") == 2
    assert log.add_labels(pd.DataFrame({"request_id": ids[:2], "y": [float("nan")] * 2}), "y") == 0
    read = log.read(labelled=True)
    assert read.request_id.tolist() == [ids[0], ids[3]]
    assert read["label"].tolist() == ['"yes"', '"no"']
    log.close()
