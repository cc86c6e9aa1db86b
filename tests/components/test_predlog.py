"""The prediction log's upkeep: old predictions are deleted in chunks, newer ones kept."""

from __future__ import annotations

from mlrig.components.monitor.predlog import PredictionLog, features_of


def test_prune_deletes_only_what_was_logged_before_the_cutoff_in_chunks(tmp_path):
    log = PredictionLog(tmp_path / "predictions.db")
    ids = [
        log.log(
            model="m",
            version=1,
            keys={"k": i},
            request={},
            features={"label": i},
            prediction={"probability": 0.5},
        )  # fmt: skip
        for i in range(12)
    ]
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
