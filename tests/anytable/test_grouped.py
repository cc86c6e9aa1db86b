"""A table of several rows per entity and no event time (statsmodels' mode choice: each traveller's
four travel modes, one of them chosen): `mlrig init --entity` and the training stages hold out
and fold whole travellers, never a traveller's rows on both sides."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlrig.components.config.loader import load
from mlrig.components.runtime import tables
from mlrig.components.runtime.catalog import HOLDOUT, TRAINING_SET
from tests.mlrig.init.helpers import init_table
from tests.stages import run_stages


def _modes(travellers: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    modes = ["air", "train", "bus", "car"]
    frame = pd.DataFrame({"traveller": np.repeat(np.arange(1, travellers + 1), 4),
                          "mode": modes * travellers,
                          "cost": rng.gamma(4, 20, travellers * 4).round(1)})  # fmt: skip
    utility = -frame.cost / 40 + frame["mode"].map({"car": 1.0, "air": 0.5}).fillna(0)
    best = (utility + rng.gumbel(size=len(frame))).groupby(frame.traveller).transform("max")
    return frame.assign(chosen=(utility + rng.gumbel(size=len(frame)) >= best).astype(int))


def test_a_travellers_rows_are_held_out_and_folded_together(tmp_path):
    said, out = init_table(_modes(), tmp_path, "modes.csv", "--target", "chosen",
                           "--entity", "traveller")  # fmt: skip
    run_stages(load(out), tmp_path / "run")
    how = tables.read_manifest(tmp_path / "run/hold")["holdout"]
    assert "of the entities" in how and "each one's rows together" in how
    holdout = tables.read_tables(tmp_path / "run/hold")[HOLDOUT]
    training = tables.read_tables(tmp_path / "run/ts")[TRAINING_SET]
    assert (training.traveller.value_counts() == 4).all()  # four rows a traveller in all
    held = holdout.traveller.value_counts()
    # all four of a held traveller's rows: none left in the training part (row by row, 120 of
    # 600 rows drawn at random leave most drawn travellers with one or two rows held)
    assert len(held) > 20 and (held == 4).all()
