"""A shadow version on real stores: it answers every served request beside the served answer,
which it never changes (a shadow that fails or hangs costs no answer and no wait), and
`mlrig monitor compare --from-log` reads the two side by side, with labels once they come."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mlrig.cli import app
from mlrig.components.config.loader import load
from mlrig.components.monitor.compare import CannotCompare, compare_shadow
from mlrig.components.monitor.predlog import PredictionLog, log_location
from mlrig.serving import metrics
from mlrig.serving.predictor import Predictor, model_aliases
from mlrig.serving.shadow import Shadow, shadow_version
from tests.anytable.shop import write_shop
from tests.anytable.test_shop import REQUESTS
from tests.stages import run_stages

SERVED = [dict(r) for r in REQUESTS * 4]


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """v1 the champion; v2 a logistic regression the gate did not promote."""
    folder = tmp_path_factory.mktemp("shadow")
    config = write_shop(folder)
    run_stages(load(config), folder / "run1")
    data = yaml.safe_load(config.read_text())
    data["model"].update({"candidates": {"logistic_regression": {}}, "gate": {"margin": 1.0}})
    data["model"]["ensemble"] = False
    config.write_text(yaml.safe_dump(data))
    assert not run_stages(load(config), folder / "run2")["promoted"]
    return folder, config


def _served(loaded, log):
    champion = Predictor(loaded, 1, log)
    return champion, [champion.predict(dict(r)) for r in SERVED]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _without_ids(answers):
    return [{k: v for k, v in a.items() if k != "request_id"} for a in answers]


def test_a_shadow_answers_each_served_request_as_its_version_would(versions, tmp_path):
    _, config = versions
    loaded = load(config)
    log = PredictionLog(tmp_path / "log.db")
    champion = Predictor(loaded, 1, log)
    shadow = Shadow(Predictor(loaded, 2), log)
    answers = []
    for request in SERVED:
        answers.append(champion.predict(dict(request)))
        shadow.offer(dict(request), answers[-1]["request_id"])
    shadow.stop(wait=60)
    logged = log.read_shadows(2)
    alone = Predictor(loaded, 2)  # v2 asked directly, no shadow, no log
    expected = [alone.predict(dict(r))["probability"] for r in SERVED]
    assert logged.request_id.tolist() == [a["request_id"] for a in answers]
    assert [json.loads(p)["probability"] for p in logged.shadow_prediction] == expected
    assert set(logged.served_version) == {1} and logged.error.isna().all()
    assert len(log.read()) == len(SERVED)  # the served log holds the served answers only


def test_a_failing_or_hanging_shadow_changes_no_answer_and_keeps_no_one_waiting(versions, tmp_path):
    _, config = versions
    loaded = load(config)
    _, plain = _served(loaded, PredictionLog(tmp_path / "plain.db"))
    log = PredictionLog(log_location(loaded.place))  # the project's: compare reads it
    champion = Predictor(loaded, 1, log)

    broken = Predictor(loaded, 2)
    broken.predict = lambda request, *a, **k: 1 / 0  # type: ignore[method-assign]
    failing = Shadow(broken, log)
    gate = threading.Event()
    stuck = Predictor(loaded, 2)
    stuck.predict = lambda request, *a, **k: gate.wait()  # type: ignore[method-assign]
    hanging = Shadow(stuck, PredictionLog(tmp_path / "other.db"), rows=2)
    dropped = metrics.SHADOW.labels("2", "dropped")._value.get()

    since = _now()
    answers = []
    for request in SERVED:  # the hanging shadow never returns while these are answered
        answers.append(champion.predict(dict(request)))
        failing.offer(dict(request), answers[-1]["request_id"])
        hanging.offer(dict(request), answers[-1]["request_id"])
    assert _without_ids(answers) == _without_ids(plain)
    assert metrics.SHADOW.labels("2", "dropped")._value.get() - dropped >= len(SERVED) - 3
    hanging.stop()  # its queue is full and its thread stuck: stopping it does not wait
    gate.set()
    failing.stop(wait=60)
    logged = log.read_shadows(2, since)
    assert len(logged) == len(SERVED) and logged.shadow_prediction.isna().all()
    assert logged.error.str.startswith("ZeroDivisionError").all()
    report = compare_shadow(loaded.place, loaded.config.model.name, 2, since=since)
    assert report["shadow_failed"] == len(SERVED) and "agreement" not in report


def test_compare_from_the_log_sets_the_shadow_beside_the_served_answers(versions):
    _, config = versions
    loaded = load(config)
    runner = CliRunner()
    assert runner.invoke(app, ["model", "shadow", "1", "-c", str(config)]).exit_code == 1
    said = runner.invoke(app, ["model", "shadow", "2", "-c", str(config)])
    assert said.exit_code == 0 and "v2 shadows the champion v1" in said.output
    assert shadow_version(loaded) == 2
    named = model_aliases(loaded)  # what a replica's follower reads, in one request
    assert named["champion"] == 1 and named["shadow"] == 2 and shadow_version(loaded, named) == 2
    log = PredictionLog(log_location(loaded.place))
    with pytest.raises(CannotCompare, match="no logged answers of v2 as a shadow"):
        compare_shadow(loaded.place, loaded.config.model.name, 2, since="2999-01-01")
    since = _now()
    _, answers = _served(loaded, log)
    shadow = Shadow(Predictor(loaded, shadow_version(loaded)), log)
    for request, answer in zip(SERVED, answers, strict=True):
        shadow.offer(dict(request), answer["request_id"])
    shadow.stop(wait=60)
    alone = Predictor(loaded, 2)
    theirs = [alone.predict(dict(r)) for r in SERVED]
    agree = sum(a["prediction"] == b["prediction"] for a, b in zip(answers, theirs, strict=True))
    labels = ["yes" if i % 3 else "no" for i in range(len(SERVED))]
    log.add_labels(
        pd.DataFrame({"request_id": [a["request_id"] for a in answers], "churned": labels}),
        "churned",
    )
    asked = ["monitor", "compare", "2", "--from-log", "--since", since, "-c", str(config)]
    shown = runner.invoke(app, asked)
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.output[: shown.output.rindex("}") + 1])
    assert report["against"] == 1 and report["rows"] == len(SERVED)
    assert report["labelled_rows"] == len(SERVED) and len(report["interval_95"]) == 2
    assert report["agreement"] == pytest.approx(agree / len(SERVED))
    off = runner.invoke(app, ["model", "shadow", "--off", "-c", str(config)])
    assert off.exit_code == 0 and shadow_version(loaded) is None
    assert "shadow" not in model_aliases(loaded) and model_aliases(loaded)["champion"] == 1
    unknown = loaded.config.model.model_copy(update={"name": "never-registered"})
    nobody = type(loaded)(loaded.config.model_copy(update={"model": unknown}), loaded.root)
    assert model_aliases(nobody) == {}
