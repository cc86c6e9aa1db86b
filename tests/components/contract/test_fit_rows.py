"""Fit-row hashes: a row is known by its request fields and target, whatever else it holds."""

from __future__ import annotations

import pandas as pd

from mlrig.components.contract import fit_rows
from mlrig.components.contract.contract import Contract


def _contract() -> Contract:
    return Contract.from_dict(
        {
            "task": "binary",
            "target": "y",
            "request_fields": {"a": "str", "b": "str"},
            "entity_keys": {},
            "derivations": [],
            "date_parts": None,
            "event_time": None,
            "timezone": "UTC",
        }  # fmt: skip
    )


def test_rows_are_known_by_request_fields_and_target_only(tmp_path):
    train = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "y": [0, 1, 0], "f": [9, 9, 9]})
    holdout = pd.DataFrame({"f": [5, 6], "y": [0, 1], "b": ["x", "y"], "a": [1, 7]})
    seen = fit_rows.seen(fit_rows.row_hashes(holdout, _contract()),
                         fit_rows.row_hashes(train, _contract()))  # fmt: skip
    assert seen == 1  # (1, x, 0) was fitted on; column order and other columns do not matter
    fit_rows.log(type("M", (), {"log_artifacts": lambda *a: None})(), tmp_path,
                 fit_rows.row_hashes(train, _contract()), fit_rows.row_hashes(train, _contract()))  # fmt: skip
    assert len(fit_rows.saved(tmp_path)) == 3


def _mlflow(tmp_path):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = mlflow.create_experiment("fit-rows", artifact_location=str(tmp_path / "art"))
    return mlflow, experiment


def test_a_run_without_fit_rows_is_never_recorded_and_a_logged_record_reads_back(tmp_path):
    mlflow, experiment = _mlflow(tmp_path)
    with mlflow.start_run(experiment_id=experiment) as old:
        pass
    with mlflow.start_run(experiment_id=experiment) as new:
        hashes = fit_rows.row_hashes(pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "y": [0, 1]}),
                                     _contract())  # fmt: skip
        fit_rows.log(mlflow, tmp_path / "out", hashes, hashes[:1])
    assert fit_rows.load(mlflow, old.info.run_id) is None
    record = fit_rows.load(mlflow, new.info.run_id)
    assert sorted(record["released"]) == sorted(hashes) and len(record["evaluated"]) == 1


def test_a_record_that_cannot_be_read_fails_closed_instead_of_reading_as_none(tmp_path):
    import pytest

    mlflow, experiment = _mlflow(tmp_path)
    with mlflow.start_run(experiment_id=experiment) as run:
        hashes = fit_rows.row_hashes(pd.DataFrame({"a": [1], "b": ["x"], "y": [0]}), _contract())
        fit_rows.log(mlflow, tmp_path / "out", hashes, hashes)
    stored = next((tmp_path / "art").rglob("evaluated.npy"))
    stored.write_bytes(b"not an array")  # a damaged artifact store
    with pytest.raises(fit_rows.Unreadable, match="reading the fit rows"):
        fit_rows.load(mlflow, run.info.run_id)
    stored.unlink()  # half a record
    with pytest.raises(fit_rows.Unreadable, match="incomplete"):
        fit_rows.load(mlflow, run.info.run_id)
