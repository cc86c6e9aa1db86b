"""The stage cache: same code, config and input content -> the stage's outputs and result are
reused; any change, or MLRIG_NO_CACHE, runs it again. An ingestion time alone changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from mlrig.components.common import cache
from tests.conftest import load_demo

CALLS: list[str] = []


@cache.stage("probe", inputs=("src",), outputs=("dst",))
def probe(config_json: str, src: str, dst: str) -> dict:
    CALLS.append(src)
    Path(dst).mkdir(parents=True, exist_ok=True)
    text = (Path(src) / "in.txt").read_text()
    (Path(dst) / "out.txt").write_text(text.upper())
    return {"chars": len(text), "call": len(CALLS)}


def _input(folder: Path, text: str, ingested_at: str = "2026-01-01T00:00:00") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "in.txt").write_text(text)
    (folder / "manifest.json").write_text(
        json.dumps({"dataset_hash": text, "ingested_at": ingested_at})
    )
    return folder


def test_unchanged_inputs_reuse_outputs_and_changes_run_again(tmp_path, monkeypatch):
    monkeypatch.delenv("MLRIG_NO_CACHE", raising=False)
    js = load_demo(tmp_path).to_json()
    CALLS.clear()
    first = probe(js, str(_input(tmp_path / "a", "hello")), str(tmp_path / "out1"))
    # the same content elsewhere, ingested at another time: reused, outputs copied back
    again = probe(js, str(_input(tmp_path / "b", "hello", "2026-02-02")), str(tmp_path / "out2"))
    assert len(CALLS) == 1 and again == first
    assert (tmp_path / "out2" / "out.txt").read_text() == "HELLO"
    entries = list((tmp_path / ".mlrig" / "cache" / "probe").iterdir())
    assert len(entries) == 1 and not entries[0].name.startswith(".")  # no half-written entry

    probe(js, str(_input(tmp_path / "c", "changed")), str(tmp_path / "out3"))  # new data
    assert len(CALLS) == 2
    other = load_demo(tmp_path, sample_rows=100).to_json()  # another config, same project
    probe(other, str(tmp_path / "a"), str(tmp_path / "out4"))
    assert len(CALLS) == 3
    assert len(list((tmp_path / ".mlrig" / "cache" / "probe").iterdir())) == cache.KEEP
    monkeypatch.setenv("MLRIG_NO_CACHE", "1")  # mlrig run --no-cache
    probe(js, str(tmp_path / "a"), str(tmp_path / "out5"))
    assert len(CALLS) == 4


def test_a_code_change_changes_every_key(monkeypatch):
    before = cache.code_digest()
    monkeypatch.setattr(cache, "_CODE", ["another version of mlrig"])
    assert cache.code_digest() != before


def test_an_upgraded_library_runs_the_stage_again(tmp_path, monkeypatch):
    monkeypatch.delenv("MLRIG_NO_CACHE", raising=False)
    js = load_demo(tmp_path).to_json()
    CALLS.clear()
    probe(js, str(_input(tmp_path / "a", "hello")), str(tmp_path / "out1"))
    probe(js, str(tmp_path / "a"), str(tmp_path / "out2"))
    assert len(CALLS) == 1
    assert "pandas" in cache.SHAPING and "lightgbm" in cache.SHAPING
    monkeypatch.setattr(cache, "_LIBS", ["pandas==99.0 installed"])  # an upgrade
    probe(js, str(tmp_path / "a"), str(tmp_path / "out3"))
    assert len(CALLS) == 2


def test_the_features_stage_key_holds_the_request_schema(tmp_path):
    from mlrig.components.features.io import run as features_run

    assert "serving" in features_run.sections  # it reads serving.request_fields
    demo = load_demo(tmp_path)
    changed = demo.config.model_copy(deep=True)
    changed.serving.request_fields = {**(changed.serving.request_fields or {}), "extra": "str"}
    assert cache._sections(demo.config, features_run.sections) != cache._sections(
        changed, features_run.sections
    )


def test_a_model_setting_changes_only_the_keys_of_stages_that_read_it(tmp_path):
    js = load_demo(tmp_path).to_json()
    tuned = load_demo(tmp_path, cv_folds=5).to_json()
    assert cache.config_part(js, cache.BASE) == cache.config_part(tuned, cache.BASE)  # validate
    features = (*cache.BASE, "features")
    assert cache.config_part(js, features) == cache.config_part(tuned, features)  # features, eda
    train = (*cache.BASE, "features", "model")
    assert cache.config_part(js, train) != cache.config_part(tuned, train)  # train, evaluate


@cache.stage("probe_base", inputs=("src",), outputs=("dst",), sections=cache.BASE)
def probe_base(config_json: str, src: str, dst: str) -> dict:
    CALLS.append(src)
    Path(dst).mkdir(parents=True, exist_ok=True)
    return {"call": len(CALLS)}


def test_a_stage_that_does_not_read_the_model_section_is_reused_when_it_changes(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("MLRIG_NO_CACHE", raising=False)
    CALLS.clear()
    source = str(_input(tmp_path / "a", "hello"))
    probe_base(load_demo(tmp_path).to_json(), source, str(tmp_path / "o1"))
    probe_base(load_demo(tmp_path, cv_folds=5).to_json(), source, str(tmp_path / "o2"))
    assert len(CALLS) == 1  # like validate: a model setting changes nothing it reads
    probe_base(load_demo(tmp_path, sample_rows=50).to_json(), source, str(tmp_path / "o3"))
    assert len(CALLS) == 2  # a dataset setting does
