"""The gate against a champion refit on all its data: it must not be judged on rows it was
fitted on (fit_rows.py)."""

from __future__ import annotations

import pytest

from tests.anytable.test_flat import _penguins
from tests.stages import run_stages


def test_a_champion_refit_on_the_challengers_holdout_is_judged_by_its_model_without_it(
    tmp_path, monkeypatch
):
    """A rerun on the same data: the champion, refit on all rows, has seen the new holdout and
    would win by memory. The gate scores the champion's model fitted without its holdout, which
    here is the same rows, so the same model ties rather than wins."""
    loaded = _penguins(tmp_path)
    first = run_stages(loaded, tmp_path / "one")
    assert first["promoted"]
    monkeypatch.setenv("MLRIG_NO_CACHE", "1")  # as `mlrig run --no-cache`: train again
    second = run_stages(loaded, tmp_path / "two")  # the same data, the same seed: the same model
    assert not second["promoted"] and second["champion"] == pytest.approx(second["challenger"])
    assert "scored with the champion's model fitted without these rows" in second["reason"]
