"""The stage cache: same code, libraries, input content and the config sections the stage read ->
its outputs and result are reused; any change to those, or MLRIG_NO_CACHE, runs it again. An
ingestion time alone changes nothing, nor does a section the stage never read."""

from __future__ import annotations

import json
from pathlib import Path

from mlrig.components.config.loader import from_json, load
from mlrig.components.runtime import cache
from tests.conftest import load_demo

CALLS: list[str] = []


@cache.stage("probe", inputs=("src",), outputs=("dst",))
def probe(config_json: str, src: str, dst: str) -> dict:
    CALLS.append(src)
    assert from_json(config_json).config.dataset.sample_rows != -1  # it reads the dataset
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
    assert json.loads((entries[0] / cache.READS).read_text()) == ["dataset"]

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


@cache.stage("probe_model", inputs=("src",), outputs=("dst",))
def probe_model(config_json: str, src: str, dst: str) -> dict:
    CALLS.append(src)
    Path(dst).mkdir(parents=True, exist_ok=True)
    return {"folds": from_json(config_json).config.model.cv_folds}


def test_a_change_reruns_only_the_stages_that_read_its_section(tmp_path, monkeypatch):
    monkeypatch.delenv("MLRIG_NO_CACHE", raising=False)
    CALLS.clear()
    source = str(_input(tmp_path / "a", "hello"))
    probe(load_demo(tmp_path).to_json(), source, str(tmp_path / "o1"))
    probe_model(load_demo(tmp_path).to_json(), source, str(tmp_path / "o2"))
    assert len(CALLS) == 2
    tuned = load_demo(tmp_path, cv_folds=5).to_json()  # a model setting
    probe(tuned, source, str(tmp_path / "o3"))
    assert len(CALLS) == 2  # like validate: reused, it never read the model section
    assert probe_model(tuned, source, str(tmp_path / "o4")) == {"folds": 5}
    assert len(CALLS) == 3  # like train: it did
    probe(load_demo(tmp_path, sample_rows=50).to_json(), source, str(tmp_path / "o5"))
    assert len(CALLS) == 4  # a dataset setting reruns what read the dataset


@cache.stage("probe_threads", inputs=("src",), outputs=("dst",))
def probe_threads(config_json: str, src: str, dst: str) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    CALLS.append(src)
    cfg = from_json(config_json).config
    with ThreadPoolExecutor(1) as pool:
        return {"monitor": pool.submit(lambda: cfg.monitor.min_days_served).result()}


def test_a_section_read_in_another_thread_is_in_the_key(tmp_path, monkeypatch):
    monkeypatch.delenv("MLRIG_NO_CACHE", raising=False)
    CALLS.clear()
    source = str(_input(tmp_path / "a", "hello"))
    probe_threads(load_demo(tmp_path).to_json(), source, str(tmp_path / "o1"))
    entry = next((tmp_path / ".mlrig" / "cache" / "probe_threads").iterdir())
    assert json.loads((entry / cache.READS).read_text()) == ["monitor"]
    data = load_demo(tmp_path).config.model_dump(mode="json")
    data["monitor"]["min_days_served"] = 9
    changed = from_json(json.dumps({"config": data, "root": str(tmp_path)})).to_json()
    assert probe_threads(changed, source, str(tmp_path / "o2")) == {"monitor": 9}
    assert len(CALLS) == 2


def test_an_entry_without_its_record_of_reads_is_never_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("MLRIG_NO_CACHE", raising=False)
    CALLS.clear()
    source = str(_input(tmp_path / "a", "hello"))
    js = load_demo(tmp_path).to_json()
    probe(js, source, str(tmp_path / "o1"))
    entry = next((tmp_path / ".mlrig" / "cache" / "probe").iterdir())
    (entry / cache.READS).write_text("{broken")
    probe(js, source, str(tmp_path / "o2"))
    assert len(CALLS) == 2


def test_the_features_stage_is_keyed_by_the_request_schema_it_reads(tmp_path, monkeypatch):
    from mlrig.components.features.io import run as features
    from mlrig.components.ingest.io import run as ingest
    from mlrig.components.validate.io import run as validate
    from tests.anytable.shop import write_shop

    monkeypatch.delenv("MLRIG_NO_CACHE", raising=False)
    data = load(write_shop(tmp_path)).config.model_dump(mode="json")

    def run_with(section: str, key: str, value: object, out: str) -> None:
        changed = json.loads(json.dumps(data))
        changed[section][key] = value
        js = json.dumps({"config": changed, "root": str(tmp_path)})
        features(js, str(tmp_path / "val"), str(tmp_path / out))

    js = json.dumps({"config": data, "root": str(tmp_path)})
    ingest(js, str(tmp_path / "raw"))
    validate(js, str(tmp_path / "raw"), str(tmp_path / "val"), str(tmp_path / "q"))
    features(js, str(tmp_path / "val"), str(tmp_path / "ts"))
    entries = tmp_path / ".mlrig" / "cache" / "features"
    (entry,) = entries.iterdir()
    read = set(json.loads((entry / cache.READS).read_text()))
    assert {"dataset", "features", "serving"} <= read and not {"model", "monitor"} & read
    run_with("monitor", "min_days_served", 9, "ts2")  # not read: reused
    assert len(list(entries.iterdir())) == 1
    request = {"customer_id": "int", "as_of": "datetime", "region": "str", "plan": "str",
               "zip": "str", "age": "float", "coupon": "str"}  # fmt: skip
    # a field requests now carry: the training set's columns change
    run_with("serving", "request_fields", request, "ts3")
    assert len(list(entries.iterdir())) == 2
