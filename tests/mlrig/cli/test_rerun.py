"""The record of an unchanged run is used only when it is whole: a damaged one lets the run go
ahead instead of failing `mlrig run`."""

from __future__ import annotations

from mlrig.cli import rerun
from mlrig.components.runtime import run_memo
from tests.conftest import load_demo


def test_a_record_without_its_registered_version_lets_the_run_go_ahead(tmp_path):
    loaded = load_demo(tmp_path)
    run_memo.remember(loaded.workdir, "k", {"state": {"train": {"status": "done"}},
                                             "live_champion": "", "run_prefix": "abcd1234"})  # fmt: skip
    assert run_memo.recall(loaded.workdir, "k") is not None
    assert rerun.recalled(loaded, "k") is None
