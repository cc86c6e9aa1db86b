"""A flat table without an event time (the penguins), in process: string labels, binary with a
positive label and multiclass, nulls at request time, a seeded random holdout."""

from __future__ import annotations

import shutil

import pytest
import yaml

from mlrig.components.config.loader import load
from mlrig.serving.predictor import Predictor
from tests.conftest import REPO
from tests.stages import run_stages

PENGUIN = {"island": "Dream", "bill_length_mm": 46.5, "bill_depth_mm": 17.9,
           "flipper_length_mm": 192, "body_mass_g": 3500, "sex": "female", "year": 2007}  # fmt: skip


def _penguins(folder, model=None, **dataset):
    shutil.copy(REPO / "examples/penguins/mlrig.yaml", folder / "mlrig.yaml")
    data = yaml.safe_load((folder / "mlrig.yaml").read_text())
    data["dataset"].update(dataset)
    data["model"].update({"tuning": {"trials": 3}, **(model or {})})  # a small search: fast tests
    (folder / "mlrig.yaml").write_text(yaml.safe_dump(data))
    return load(folder / "mlrig.yaml")


def test_multiclass_string_labels_with_nulls(tmp_path):
    loaded = _penguins(tmp_path)
    result = run_stages(loaded, tmp_path / "run")
    assert result["promoted"] and result["challenger"] > 0.9  # roc_auc, macro one-vs-rest
    predictor = Predictor(loaded)
    answer = predictor.predict(dict(PENGUIN))
    assert answer["prediction"] in {"Adelie", "Chinstrap", "Gentoo"}
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert answer["missing_features"] == [] and "unknown_entities" not in answer
    nulled = predictor.predict({**PENGUIN, "sex": None, "bill_depth_mm": None})
    assert nulled["prediction"] in {"Adelie", "Chinstrap", "Gentoo"}
    # the one-row path (compiled model) answers exactly as the model pipeline on assemble()'s frame
    assert predictor.compiled is not None
    requests = [PENGUIN, {**PENGUIN, "sex": None, "bill_depth_mm": None},
                {**PENGUIN, "island": "Atlantis", "body_mass_g": 6100}]  # fmt: skip
    for request in requests:
        assert predictor.predict(dict(request)) == predictor.predict_via_frame(dict(request))
    # a batch (no feature views at all) answers each row as predict does
    batch = predictor.predict_many([dict(r) for r in requests])
    assert batch == [predictor.predict(dict(r)) for r in requests]


def test_binary_string_label_reports_the_positive_class(tmp_path):
    loaded = _penguins(tmp_path, {"calibrate": "sigmoid"}, target="sex", positive_label="female")
    assert "sex" not in loaded.config.dataset.request_features
    result = run_stages(loaded, tmp_path / "run")
    assert result["promoted"]
    predictor = Predictor(loaded)
    request = {k: v for k, v in PENGUIN.items() if k != "sex"}
    answer = predictor.predict(request)
    assert answer["prediction"] in {"male", "female"}
    assert predictor.compiled is not None and predictor.compiled.platt is not None
    assert predictor.predict_via_frame(dict(request)) == answer
    assert answer["positive_class"] == "female"
    assert (answer["prediction"] == "female") == (answer["probability"] >= answer["threshold"])


def test_a_positive_label_absent_from_the_data_stops_at_validate(tmp_path):
    loaded = _penguins(tmp_path, target="sex", positive_label="unknown")
    with pytest.raises(ValueError, match=r"dataset\.positive_label: 'unknown'"):
        run_stages(loaded, tmp_path / "run")
