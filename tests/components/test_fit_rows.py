"""Fit-row hashes: a row is known by its request fields and target, whatever else it holds."""

from __future__ import annotations

import pandas as pd

from mlrig.components.common import fit_rows
from mlrig.components.common.contract import Contract


def _contract() -> Contract:
    return Contract.from_dict(
        {
            "task": "binary",
            "target": "y",
            "request_fields": {"a": {}, "b": {}},
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
