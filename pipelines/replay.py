"""Replay: train on the events before a start time, then feed the later events month by month
through batch scoring (the pinned champion, features point-in-time from the offline store),
log every prediction, attach the true labels, and let `decide` judge drift and performance
against the `monitor` policy. A triggered check retrains on everything seen so far; the gate
decides, and a promoted challenger serves the following months (and any running service picks it
up by itself). Nothing here names a column: the config's target, keys and event time drive it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mlrig.components.config.loader import LoadedConfig, from_json
from mlrig.components.contract.assemble import prepare
from mlrig.components.contract.timeutil import to_utc
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.integrations.mlflow.registry import NoVersion, load_alias
from mlrig.components.monitor.check import decide
from mlrig.components.monitor.performance import window_metrics
from mlrig.components.monitor.predlog import open_log
from mlrig.components.runtime import tables
from mlrig.components.runtime.catalog import CHAMPION, EVENT_TS
from mlrig.components.score.io import check_frame, predicted, training_source

# the project with dataset.until set -> what the register stage returned
Trainer = Callable[[LoadedConfig], dict]
LABEL = "_mlrig_label"


@dataclass
class Step:
    month: str
    version: int
    rows: int
    rejected: int
    metrics: dict[str, float]
    drifted: list[str]
    psi: dict[str, float]
    prediction_psi: float
    retrain: bool
    reasons: list[str]
    training: dict[str, Any] = field(default_factory=dict)
    reasons_moved: list[str] = field(
        default_factory=list
    )  # inputs whose share of the answers moved


def with_until(loaded: LoadedConfig, until: pd.Timestamp) -> LoadedConfig:
    """The same project with dataset.until set (a backtest's training cut)."""
    data = json.loads(loaded.to_json())
    data["config"]["dataset"]["until"] = until.isoformat()
    return from_json(json.dumps(data), changed=True)


def source_rows(loaded: LoadedConfig, folder: Path) -> pd.DataFrame:
    """The main table as ingest and validate give it (rejected rows stay in quarantine)."""
    from mlrig.components.ingest.io import run as ingest
    from mlrig.components.validate.io import run as validate

    js = loaded.to_json()
    ingest(js, str(folder / "raw"))
    validate(js, str(folder / "raw"), str(folder / "validated"), str(folder / "quarantine"))
    return tables.read_tables(folder / "validated")[loaded.config.dataset.main]


def month_starts(start: pd.Timestamp, end: pd.Timestamp) -> list[pd.Timestamp]:
    """start, the first of each following month, and end."""
    firsts = pd.date_range(start.normalize(), end, freq="MS")  # midnights, in start's zone
    return [start, *[t for t in firsts if start < t < end], end]


def _champion(loaded: LoadedConfig) -> Any:
    mlflow = tracking.configure(loaded.place)
    return load_alias(mlflow, loaded.config.model.name, CHAMPION)


def _not_trained_on_the_future(loaded: LoadedConfig, champion: Any, start: pd.Timestamp) -> None:
    """A champion that saw events at or after --start (an earlier `mlrig run` on all the data,
    which beat the replay's own first training) would score months it was trained on."""
    run = tracking.configure(loaded.place).get_run(champion.run_id)
    last = run.data.tags.get("mlrig.last_event")
    if last and pd.Timestamp(last) >= start:
        raise ValueError(
            f"--start: the champion, {champion.name} v{champion.version}, was trained on events up "
            f"to {last}, after {start}; replaying from there would score events it has seen. "
            "Replay in a copy of the project without its .mlrig folder and MLflow store (or "
            "start after its last event)"
        )


def replay_month(
    loaded: LoadedConfig, rows: pd.DataFrame, out_dir: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Score one month of rows with the champion, log them, attach their labels, and decide."""
    cfg = loaded.config
    champ = _champion(loaded)
    contract = champ.contract
    request = rows[[c for c in contract.request_fields if c in rows]].copy()
    request[LABEL] = rows[cfg.dataset.target].to_numpy()
    main = training_source(cfg.dataset)
    scored = predicted(champ, check_frame(loaded.place, main, champ, request, [LABEL]))
    requests = scored.requests[list(contract.request_fields)]
    prepared = prepare(contract, requests)
    keys = prepared[[k for k in contract.entity_keys if k in prepared]]
    answers = ("prediction", "probability")
    answered = scored.predicted[
        [c for c in scored.predicted if c in answers or str(c).startswith("probability_")]
    ]
    since = datetime.now(UTC).isoformat()
    log = open_log(loaded.place)
    ids = log.log_many(
        model=cfg.model.name,
        version=champ.version,
        keys=keys,
        requests=requests,
        features=scored.inputs,
        predictions=answered,
        event_times=prepared[EVENT_TS],
    )
    labels = pd.DataFrame({"request_id": ids, cfg.dataset.target: scored.requests[LABEL]})
    log.add_labels(labels, cfg.dataset.target)
    month = log.read(since)
    log.close()
    metrics = window_metrics(month, contract, "Y")
    summary = {
        "version": champ.version,
        "rows": len(scored.predicted),
        "rejected": len(scored.rejected),
        "metrics": metrics.drop(columns=["window", "rows"]).iloc[0].to_dict()
        if len(metrics)
        else {},
    }
    return summary, decide(loaded, since, out_dir)


def replay(
    loaded: LoadedConfig,
    start: str,
    end: str | None,
    trainer: Trainer,
    *,
    retrain: bool = True,
    train_first: bool = True,
    rows_per_month: int | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> dict[str, Any]:
    """Train before `start` (unless told not to), then replay month by month up to `end`;
    returns the timeline and writes it as JSON and an HTML report with plots."""
    from mlrig.components.monitor.timeline import write_report

    cfg = loaded.config
    if not cfg.dataset.event_timestamp:
        raise ValueError("replay needs dataset.event_timestamp: months of what?")
    tz = cfg.dataset.timezone
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    dest = loaded.path(cfg.workdir) / "monitor" / f"replay-{stamp}"
    main = source_rows(loaded, dest / "data").reset_index(drop=True)
    t0 = to_utc(pd.Series([start]), tz).iloc[0]
    first = trainer(with_until(loaded, t0)) if train_first else {}
    try:
        champion = _champion(loaded)
    except NoVersion:
        raise ValueError("no champion to replay against: no training promoted one") from None
    _not_trained_on_the_future(loaded, champion, t0)
    contract = champion.contract
    times = prepare(contract, main[[c for c in main if c in contract.request_fields]])[EVENT_TS]
    last_day = times.max().tz_convert(tz).normalize() + pd.Timedelta(days=1)
    t_end = to_utc(pd.Series([end]), tz).iloc[0] if end else last_day.tz_convert("UTC")
    local = [t.tz_convert(tz) for t in (t0, t_end)]
    bounds = [t.tz_convert("UTC") for t in month_starts(*local)]
    steps: list[Step] = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        rows = main[(times >= a) & (times < b)]
        if rows.empty:
            continue
        if rows_per_month and len(rows) > rows_per_month:
            rows = rows.sample(rows_per_month, random_state=cfg.model.random_state).sort_index()
        label = a.tz_convert(tz).strftime("%Y-%m")
        step = _step(label, *replay_month(loaded, rows, dest / label))
        if step.retrain and retrain:
            step.training = trainer(with_until(loaded, b))
        steps.append(step)
        if on_step:
            on_step(step)
    timeline = {
        "project": cfg.project,
        "model": cfg.model.name,
        "start": str(t0),
        "end": str(t_end),
        "first_training": first,
        "evaluation": _evaluations(loaded, {s.version for s in steps}),
        "steps": [s.__dict__ for s in steps],
    }
    report = write_report(loaded.place, cfg.model.primary_metric or "", timeline, dest)
    return {**timeline, "report": str(report), "folder": str(dest)}


def _step(month: str, summary: dict[str, Any], decision: dict[str, Any]) -> Step:
    """One month of the timeline: what was scored and what the policy decided."""
    drift = decision["drift"]
    return Step(
        month=month,
        version=summary["version"],
        rows=summary["rows"],
        rejected=summary["rejected"],
        metrics=summary["metrics"],
        drifted=list(drift["drifted"]),
        psi={f["column"]: f["psi"] for f in drift.get("features", [])},
        prediction_psi=drift["prediction_drift"]["psi"],
        retrain=decision["retrain"],
        reasons=decision["reasons"],
        reasons_moved=list(drift.get("reasons", {}).get("moved", [])),
    )


def _evaluations(loaded: LoadedConfig, versions: set[int]) -> dict[int, dict[str, float]]:
    """Each served version's holdout metrics at evaluation (the line a month is judged by)."""
    mlflow = tracking.configure(loaded.place)
    client = mlflow.MlflowClient()
    out = {}
    for v in sorted(versions):
        run_id = client.get_model_version(loaded.config.model.name, str(v)).run_id
        metrics = client.get_run(run_id).data.metrics
        out[v] = {
            k.removeprefix("holdout_"): m for k, m in metrics.items() if k.startswith("holdout_")
        }
    return out
