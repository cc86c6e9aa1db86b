"""The gate's second half (model.gate.shadow_days): a challenger that passed the holdout gate
shadows the champion on live traffic, and `mlrig monitor check` decides it.

Once the shadow has answered `shadow_days` of requests (by their event time) it is promoted when
the paired comparison of its logged answers with the champion's, on the labels that came,
shows it better (the 95 % paired bootstrap interval of the metric's difference excludes 0 in its
favour); otherwise it is retired (the `shadow` alias removed). Until then the check waits. Each
decision is recorded in the alias history with its numbers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlrig.components.config.place import Place
from mlrig.components.config.schema import Features, Model
from mlrig.components.integrations.feast import feast_store
from mlrig.components.integrations.mlflow import history, tracking
from mlrig.components.integrations.mlflow.registry import NoVersion, load_version, resolve
from mlrig.components.monitor.compare import CannotCompare, compare_shadow
from mlrig.components.monitor.predlog import log_exists, opened
from mlrig.components.runtime.catalog import CHAMPION, SHADOW


def days_answered(place: Place, version: int) -> float:
    """Days between the first and the last event time of the requests the shadow answered."""
    if not log_exists(place):
        return 0.0
    with opened(place) as log:
        times = log.read_shadows(version).event_time.dropna()
    if times.empty:
        return 0.0
    instants = pd.to_datetime(times, utc=True, format="ISO8601")
    return (instants.max() - instants.min()).total_seconds() / 86_400


def judge_shadow(place: Place, model: Model, features: Features) -> dict[str, Any] | None:
    """Wait for, promote or retire the shadowing challenger; None without a shadow period or a
    shadow. features: the config's, to make a promoted shadow's feature set live."""
    days = model.gate.shadow_days
    if not days:
        return None
    mlflow = tracking.configure(place)
    name = model.name
    try:
        shadow, champion = resolve(mlflow, name, SHADOW), resolve(mlflow, name, CHAMPION)
    except NoVersion:
        return None
    served = days_answered(place, shadow)
    out: dict[str, Any] = {"shadow": shadow, "champion": champion, "days": round(served, 2)}
    if served < days:
        return {**out, "decision": "wait", "reason": f"{served:.1f} of {days:g} days answered"}
    try:
        report = compare_shadow(place, name, shadow, champion)
    except CannotCompare as exc:
        return _retire(mlflow, name, out, f"cannot be compared: {exc}")
    out["comparison"] = {k: v for k, v in report.items() if k != "shadow_errors"}
    if "interval_95" not in report:
        return {**out, "decision": "wait", "reason": "fewer than two labelled requests yet"}
    if report["better"] == out["shadow"] and not report["shadow_failed"]:
        return _promote(place, features, mlflow, name, out, report["verdict"])
    failed = f"; it failed on {report['shadow_failed']} requests" if report["shadow_failed"] else ""
    return _retire(mlflow, name, out, f"{report['verdict']}{failed}")


def _promote(
    place: Place, config_features: Features, mlflow: Any, name: str, out: dict, why: str
) -> dict:
    shadow = out["shadow"]
    features = load_version(mlflow, name, shadow).contract.features
    if features and features.views:  # its feature set live, as `mlrig model promote` does
        feast_store.materialize(place, config_features, features)
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(name, CHAMPION, str(shadow))
    client.delete_registered_model_alias(name, SHADOW)
    reason = f"after {out['days']:g} days as a shadow: {why}"
    history.record(
        client, name, alias=CHAMPION, from_version=out["champion"], to_version=shadow,
        by="gate (shadow period)", reason=reason, numbers=out.get("comparison"),
    )  # fmt: skip
    return {**out, "decision": "promoted", "reason": reason}


def _retire(mlflow: Any, name: str, out: dict, why: str) -> dict:
    client = mlflow.MlflowClient()
    client.delete_registered_model_alias(name, SHADOW)
    reason = f"after {out['days']:g} days as a shadow, retired: {why}"
    history.record(
        client, name, alias=SHADOW, from_version=out["shadow"], to_version=None,
        by="gate (shadow period)", reason=reason, numbers=out.get("comparison"), moved=True,
    )  # fmt: skip
    return {**out, "decision": "retired", "reason": reason}
