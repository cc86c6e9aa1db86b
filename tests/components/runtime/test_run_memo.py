"""A run's key changes with any source byte, the config and the MLRIG_* variables the pipeline
sees; a source that is not a file has no key, so such a run always goes ahead; a kept record
is found again by its key only."""

from __future__ import annotations

import shutil

import yaml

from mlrig.components.config.loader import load
from mlrig.components.runtime import run_memo
from mlrig.components.sources.readers import local_files, resolve_file
from tests.conftest import REPO


def _penguins(folder, source=None, **model):
    """The penguins example reading a copy of its CSV in `folder` (or the source given)."""
    data = yaml.safe_load((REPO / "examples/penguins/mlrig.yaml").read_text())
    table = data["dataset"]["tables"]["main"]
    shutil.copy(resolve_file(table["source"]["path"], REPO), folder / "penguins.csv")
    table["source"] = source or {"kind": "file", "path": "penguins.csv"}
    data["model"].update(model)
    (folder / "mlrig.yaml").write_text(yaml.safe_dump(data))
    return load(folder / "mlrig.yaml")


def _key(loaded, child_env=None):
    files = local_files(loaded.config.dataset.tables, loaded.root)
    return run_memo.run_key(loaded.config, "training", child_env or {}, files)


def test_the_same_sources_and_config_give_the_same_key(tmp_path):
    first = _key(_penguins(tmp_path))
    assert first is not None and _key(load(tmp_path / "mlrig.yaml")) == first


def test_one_changed_source_byte_changes_the_key(tmp_path):
    loaded = _penguins(tmp_path)
    before = _key(loaded)
    path = tmp_path / "penguins.csv"
    text = path.read_text()
    path.write_text(text.replace("Torgersen", "Torgersem", 1))
    assert _key(loaded) != before


def test_the_config_and_the_pipelines_variables_are_in_the_key(tmp_path, monkeypatch):
    loaded = _penguins(tmp_path)
    before = _key(loaded)
    assert _key(_penguins(tmp_path, cv_folds=4)) != before
    assert _key(loaded, {"MLRIG__DATASET__SAMPLE_ROWS": "100"}) != before
    monkeypatch.setenv("MLRIG_SCORE_CHUNK_ROWS", "1000")
    assert _key(loaded) != before


def test_a_sql_source_or_a_missing_file_leaves_no_key(tmp_path):
    sql = {"kind": "sql", "url": "sqlite:///penguins.db", "query": "SELECT * FROM penguins"}
    assert _key(_penguins(tmp_path, source=sql)) is None
    loaded = _penguins(tmp_path)
    (tmp_path / "penguins.csv").unlink()
    assert _key(loaded) is None


def test_a_record_is_found_by_its_key_only(tmp_path):
    run_memo.remember(tmp_path, "k1", {"state": {"train": {"status": "done"}}})
    assert run_memo.recall(tmp_path, "k1") == {"state": {"train": {"status": "done"}}}
    assert run_memo.recall(tmp_path, "k2") is None
    assert run_memo.recall(tmp_path, None) is None
    (tmp_path / "cache" / run_memo.FOLDER / "k1.json").write_text("{half")
    assert run_memo.recall(tmp_path, "k1") is None  # a damaged record: the run goes ahead
