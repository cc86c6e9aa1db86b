"""model.gate.shadow_days on real registries: a challenger that passes the holdout gate shadows
the champion instead of replacing it; the monitor check waits for the period, then promotes a
shadow whose paired comparison on labels shows it better and retires one that does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from mlrig.components.config.loader import load
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.integrations.mlflow.registry import NoVersion, resolve
from mlrig.components.monitor.predlog import open_log
from mlrig.components.monitor.shadow_gate import judge_shadow
from tests.anytable.shop import write_shop
from tests.stages import run_stages


@pytest.fixture(scope="module")
def shadowing(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gate")
    config = write_shop(folder, sample_rows=40)  # a weak first champion
    data = yaml.safe_load(config.read_text())
    data["model"]["gate"] = {"shadow_days": 2}
    config.write_text(yaml.safe_dump(data))
    first = run_stages(load(config), folder / "run1")
    del data["dataset"]["sample_rows"]
    config.write_text(yaml.safe_dump(data))
    second = run_stages(load(config), folder / "run2")
    return load(config), first, second


def _judge(loaded):
    return judge_shadow(loaded.place, loaded.config.model, loaded.config.features)


def _aliases(loaded):
    mlflow = tracking.configure(loaded.place)
    out = {}
    for alias in ("champion", "shadow"):
        try:
            out[alias] = resolve(mlflow, loaded.config.model.name, alias)
        except NoVersion:
            out[alias] = None
    return out


def _traffic(loaded, start: str, days: float, shadow: int, champion: int, gap: bool, n=300):
    """n served requests over `days` from `start`, each with the shadow's answer; labels for all.
    gap: the shadow's probabilities follow the labels closely, the champion's loosely."""
    rng = np.random.default_rng(int(days * 10) + n)
    y = rng.random(n) < 0.4
    sharp = 1 / (1 + np.exp(-(4 * (y - 0.5) + rng.normal(0, 1.0, n))))
    loose = 1 / (1 + np.exp(-(4 * (y - 0.5) + rng.normal(0, 4.0, n))))
    times = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(np.linspace(0, days, n), unit="D")
    log = open_log(loaded.place)
    ids = []
    for t, mine, theirs in zip(times, sharp if gap else loose, loose, strict=True):
        rid = log.log(
            model=loaded.config.model.name, version=champion, keys={}, request={}, features={},
            prediction={"prediction": "yes" if theirs >= 0.5 else "no", "probability": theirs},
            event_time=t.isoformat(),
        )  # fmt: skip
        answer = {"prediction": "yes" if mine >= 0.5 else "no", "probability": float(mine)}
        log.log_shadow(request_id=rid, version=shadow, prediction=answer, ms=1.0)
        ids.append(rid)
    labels = pd.DataFrame({"request_id": ids, "churned": np.where(y, "yes", "no")})
    log.add_labels(labels, "churned")
    log.close()


def test_a_challenger_that_passes_the_gate_shadows_the_champion_first(shadowing):
    loaded, first, second = shadowing
    assert first["promoted"] and not second["promoted"] and second["shadowing"]
    assert "shadows the champion for 2 days" in second["reason"]
    assert _aliases(loaded) == {"champion": 1, "shadow": 2}


def test_the_check_waits_for_the_period_then_promotes_a_shadow_that_wins(shadowing):
    loaded, _, _ = shadowing
    _traffic(loaded, "2025-01-01", 1.0, shadow=2, champion=1, gap=True)
    waiting = _judge(loaded)
    assert waiting["decision"] == "wait" and waiting["days"] == pytest.approx(1.0, abs=0.01)
    assert _aliases(loaded) == {"champion": 1, "shadow": 2}
    _traffic(loaded, "2025-01-02", 2.0, shadow=2, champion=1, gap=True)
    decided = _judge(loaded)
    assert decided["decision"] == "promoted", decided
    assert decided["comparison"]["better"] == 2 and decided["comparison"]["interval_95"][0] > 0
    assert _aliases(loaded) == {"champion": 2, "shadow": None}


def test_a_shadow_that_shows_no_win_is_retired_and_the_champion_kept(shadowing):
    loaded, _, _ = shadowing
    mlflow = tracking.configure(loaded.place)
    mlflow.MlflowClient().set_registered_model_alias(loaded.config.model.name, "shadow", "1")
    _traffic(loaded, "2025-02-01", 3.0, shadow=1, champion=2, gap=False)
    decided = _judge(loaded)
    assert decided["decision"] == "retired" and "no difference shown" in decided["reason"]
    assert _aliases(loaded) == {"champion": 2, "shadow": None}
    assert _judge(loaded) is None  # nothing shadows now
