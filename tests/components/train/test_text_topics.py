"""Free text as topics (train/text.py): the transform, its one-request arithmetic, every
candidate's pipeline with a text column compiled for one row, and the model file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlrig.components.config.schema import ColumnSpec
from mlrig.components.contract.compiled_model import compile_one
from mlrig.components.integrations.mlflow import modelfile
from mlrig.components.train.core import build_pipeline
from mlrig.components.train.text import COMPONENTS, TextTopics

WORDS = ["login", "crash", "billing", "slow", "refund", "password", "error", "invoice"]


def _tickets(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    notes: list[object] = [" ".join(rng.choice(WORDS, rng.integers(2, 9))) for _ in range(n)]
    notes[3], notes[5], notes[7] = None, np.nan, ""
    frame = pd.DataFrame({"amount": rng.normal(size=n), "channel": rng.choice(["a", "b", None], n),
                          "note": pd.Series(notes, dtype=object)})  # fmt: skip
    y = np.array([int(isinstance(t, str) and "crash" in t) for t in notes])
    return frame, y


def test_topics_are_dense_named_and_missing_text_is_empty_text():
    frame, _ = _tickets()
    topics = TextTopics().fit(frame[["note"]])
    out = topics.transform(frame[["note"]])
    assert out.shape == (len(frame), COMPONENTS) and np.isfinite(out).all()
    assert list(topics.get_feature_names_out())[:2] == ["note_topic00", "note_topic01"]
    assert np.allclose(out[3], out[7]) and np.allclose(out[5], out[7])  # None, NaN, '' alike


@pytest.mark.parametrize(
    "text",
    ["crash crash login", "Crash, LOGIN!", "never seen words", "", None, "crash " * 500],
)
def test_one_text_is_scored_as_transform_scores_it(text):
    frame, _ = _tickets()
    topics = TextTopics().fit(frame[["note"]])
    one = np.empty((1, 1), dtype=object)
    one[0, 0] = text
    assert np.allclose(topics.one(text), topics.transform(one)[0], rtol=1e-12, atol=1e-12)


def test_a_small_vocabulary_and_an_empty_one():
    tiny = pd.DataFrame({"note": ["crash", "crash", "login", "login", None]})
    topics = TextTopics().fit(tiny)
    assert 1 <= topics.transform(tiny).shape[1] <= 2  # no more topics than terms
    assert np.allclose(topics.one("crash"), topics.transform(tiny.iloc[[0]])[0])
    empty = pd.DataFrame({"note": [None, "", None]})
    nothing = TextTopics().fit(empty)
    assert nothing.transform(empty).shape == (3, 0) and nothing.one("crash") == []


@pytest.mark.parametrize(
    "name", ["lightgbm", "logistic_regression", "hist_gradient_boosting", "random_forest"]
)
def test_every_candidate_learns_from_text_compiles_and_round_trips(name, tmp_path):
    frame, y = _tickets()
    pipe = build_pipeline(name, "binary", ["amount"], ["channel", "note"], 0, text=["note"])
    pipe.fit(frame, y)
    assert (pipe.predict(frame) == y).mean() > 0.9  # 'crash' is the label: the text carries it
    model, why = compile_one(pipe, "binary", ["amount", "channel", "note"], ["channel", "note"], 2)
    assert model is not None, why
    rows = [{"amount": 0.3, "channel": "a", "note": "crash and login"},
            {"amount": np.nan, "channel": np.nan, "note": None},  # as model_frame has it
            {"amount": 1.0, "channel": "zzz", "note": "words it never saw"}]  # fmt: skip
    for row in rows:
        expected = pipe.predict_proba(pd.DataFrame([row]).astype({"channel": object,
                                                                 "note": object}))  # fmt: skip
        assert np.allclose(model.predict_proba(model.vector(row)), expected, rtol=1e-9)
    import mlflow.sklearn

    mlflow.sklearn.save_model(pipe, tmp_path / "m", pip_requirements=[], **modelfile.log_options())
    back = modelfile.load(tmp_path / "m")
    assert np.array_equal(back.predict_proba(frame), pipe.predict_proba(frame))


def test_text_is_only_for_str_columns():
    with pytest.raises(ValueError, match="text: only for str columns, not float"):
        ColumnSpec(type="float", text=True)


def test_a_refit_on_the_same_texts_reuses_the_fit_and_gives_the_same_topics(monkeypatch):
    """The search fits every trial on the same folds: the topics of a fold's texts are fitted
    once. A kept fit scores exactly as a fresh one; other texts get their own."""
    from mlrig.components.train import text

    frame, _ = _tickets()
    first = TextTopics().fit(frame[["note"]])
    again = TextTopics().fit(frame[["note"]].copy())
    assert again.tfidf_ is first.tfidf_  # kept, not refitted
    other = TextTopics().fit(frame[["note"]].iloc[:300])
    assert other.tfidf_ is not first.tfidf_
    monkeypatch.setattr(text, "_KEEP", 0)
    text._FITTED.clear()
    fresh = TextTopics().fit(frame[["note"]])
    assert fresh.tfidf_ is not first.tfidf_
    assert np.array_equal(fresh.transform(frame[["note"]]), again.transform(frame[["note"]]))
    assert TextTopics(seed=1).fit(frame[["note"]]).tfidf_ is not fresh.tfidf_
