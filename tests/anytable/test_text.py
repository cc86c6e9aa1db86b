"""A support-ticket table whose label lives in its free text, in process: `mlrig init` makes
the description a text input, training reads it as topics, and one request, a batch and the
model pipeline on assemble()'s frame answer alike, with long and missing text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from mlrig.components.config.loader import load
from mlrig.serving.predictor import Predictor
from mlrig.serving.schemas import TEXT_CHARACTERS, request_model
from tests.mlrig.test_init import init_table
from tests.stages import run_stages

WORDS = ["login", "crash", "billing", "slow", "refund", "password", "error", "invoice", "app"]


def _tickets(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    text = [" ".join(rng.choice(WORDS, rng.integers(3, 10))) for _ in range(n)]
    vip = rng.choice(["Y", "N"], n, p=[0.3, 0.7])
    crash = np.array(["crash" in t for t in text])
    noise = rng.normal(0, 0.6, n)
    level = noise + 1.5 * crash + 0.5 * (vip == "Y")
    priority = np.where(level > 1.2, "high", np.where(level > 0.3, "medium", "low"))
    text = [None if i % 50 == 0 else t for i, t in enumerate(text)]  # some tickets say nothing
    return pd.DataFrame({"ticket": [f"T{i:05d}" for i in range(n)], "vip": vip,
                         "description": text, "priority": priority})  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tickets")
    said, out = init_table(_tickets(), folder, "tickets.csv", "--target", "priority")
    assert "'description' is free text" in said
    data = yaml.safe_load(out.read_text())
    data["model"]["tuning"] = {"trials": 4}  # a small search: a fast test
    out.write_text(yaml.safe_dump(data))
    loaded = load(out)
    result = run_stages(loaded, folder / "run")
    return loaded, result


def test_the_text_carries_the_label_and_one_request_answers_as_the_pipeline(project):
    loaded, result = project
    assert result["promoted"] and result["challenger"] > 0.72  # macro ROC-AUC 0.77; vip alone 0.62
    predictor = Predictor(loaded)
    assert predictor.contract.text == ["description"]
    assert "description" in predictor.contract.categorical  # carried as text
    assert predictor.compiled is not None  # the one-row path covers the topics
    base = {"vip": "N"}
    crash = predictor.predict({**base, "description": "the app shows a crash and a crash"})
    calm = predictor.predict({**base, "description": "invoice billing refund"})
    assert crash["probabilities"]["high"] > calm["probabilities"]["high"]
    requests = [{**base, "description": "crash on login " * 400},
                {**base, "description": None}, {**base, "description": ""},
                {"vip": "Y", "description": "words the model never saw"}]  # fmt: skip
    for request in requests:
        assert predictor.predict(dict(request)) == predictor.predict_via_frame(dict(request))
    batch = predictor.predict_many([dict(r) for r in requests])
    assert [b["prediction"] for b in batch] == [predictor.predict(dict(r))["prediction"]
                                                for r in requests]  # fmt: skip


def test_a_text_field_takes_long_text_but_not_unbounded_text(project):
    loaded, _ = project
    schema = request_model(Predictor(loaded).contract.request_fields)
    schema.model_validate({"vip": "N", "description": "word " * 1000})  # a category allows 256
    with pytest.raises(ValidationError, match="description"):
        schema.model_validate({"vip": "N", "description": "x" * (TEXT_CHARACTERS + 1)})
