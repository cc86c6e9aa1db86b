"""Register stage I/O: a new model version as 'challenger', promoted to 'champion' by the gate.

The gate scores the champion on this run's holdout rows through the champion's own contract
(its request fields, derivations and feature set), so both models are judged on the same rows.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from mlrig.components.config.loader import from_json
from mlrig.components.config.place import Place
from mlrig.components.contract import fit_rows
from mlrig.components.contract.assemble import assemble
from mlrig.components.contract.contract import Contract, label_key
from mlrig.components.contract.metrics import holdout_metrics, scores
from mlrig.components.integrations.feast import feast_store
from mlrig.components.integrations.feast.repo import open_store
from mlrig.components.integrations.mlflow import history, integrity, modelfile, tracking
from mlrig.components.integrations.mlflow.registry import NoVersion, Pinned, load_alias
from mlrig.components.register.core import Decision, gate
from mlrig.components.runtime import events, tables
from mlrig.components.runtime.catalog import (
    CHALLENGER,
    CHAMPION,
    EVENT_TS,
    HOLDOUT,
    METRICS_FILE,
    RUN_FILE,
    SHADOW,
)


def champion_on(
    place: Place,
    champ: Pinned,
    holdout: pd.DataFrame,
    metric: str,
    classes: list,
    challenger_rows: Any = None,
) -> tuple[float | None, str]:
    """(the champion's metric on these rows, '' or which of its models was scored) or (None, why
    it cannot be compared)."""
    contract = champ.contract
    lacking = [f for f in contract.required_fields() if f not in holdout]
    if lacking:
        return None, f"the champion needs request fields {lacking} that this data lacks"
    if contract.is_classifier and [label_key(c) for c in contract.classes] != [
        label_key(c) for c in classes
    ]:
        return None, f"the champion's classes {contract.classes} differ from {classes}"
    model, why = _unseen_model(place, champ, holdout, challenger_rows)
    if model is None:
        return None, why
    cols = [c for c in contract.request_fields if c in holdout]
    rows = holdout[list(dict.fromkeys([*cols, EVENT_TS, contract.target]))]
    store = open_store(place)
    built = assemble(contract, rows, feast_store.OfflineFeatures(store))
    y_score = scores(model, built.frame, contract.task, len(contract.classes))
    value = holdout_metrics(contract.targets(rows), y_score, contract.task, contract.threshold)
    return value[metric], why


def _unseen_model(
    place: Place, champ: Pinned, holdout: pd.DataFrame, challenger_rows: Any
) -> tuple[Any, str]:
    """The champion's model to score on these rows: the released one when it was fitted on no
    more of them than the challenger's evaluated model was (rows repeated in the data land on
    both sides of any split), else its model fitted without its own holdout when that one was
    not (a rerun on the same data), else none, with why (fit_rows.py's hashes decide).
    challenger_rows: the hashes of the rows the challenger's evaluated model was fitted on."""
    mlflow = tracking.configure(place)
    try:
        fitted = fit_rows.load(mlflow, champ.run_id)
    except fit_rows.Unreadable as exc:  # fails closed: an unread record is not "none recorded"
        return None, f"the champion v{champ.version} is not comparable: {exc}"
    if fitted is None:  # trained before fit rows were logged: as it always was
        return champ.model, ""
    rows = fit_rows.row_hashes(holdout, champ.contract)
    fair = fit_rows.seen(rows, challenger_rows) if challenger_rows is not None else 0
    if fit_rows.seen(rows, fitted["released"]) <= fair:
        return champ.model, ""
    uri = mlflow.MlflowClient().get_run(champ.run_id).data.tags.get(fit_rows.HOLDOUT_MODEL_TAG)
    if uri and fit_rows.seen(rows, fitted["evaluated"]) <= fair:
        model = modelfile.load_uri(mlflow, uri)
        return model, (
            f"scored with the champion's model fitted without these rows; "
            f"v{champ.version} was refit on them"
        )
    both = fit_rows.seen(rows, fitted["evaluated"])
    return None, (
        f"the champion v{champ.version} was fitted on {both} of the {len(rows)} holdout rows, "
        "so it cannot be judged on them; promote by hand (mlrig model promote) if the "
        "challenger is the one to serve"
    )


def already_registered(mlflow: Any, name: str, run_id: str) -> dict | None:
    """What register says when this training run's model is a version already (None if not)."""
    client = mlflow.MlflowClient()
    found = client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
    if not found:
        return None
    version = min(int(v.version) for v in found)
    try:
        champion: int | None = int(client.get_model_version_by_alias(name, CHAMPION).version)
    except Exception:  # no champion alias: MLflow raises its own not-found error
        champion = None
    return {
        "model": name,
        "version": version,
        "promoted": False,
        "reason": f"run {run_id[:8]} is already registered as v{version}: nothing new to register",
        "challenger": None,
        "champion": None,
        "champion_version": champion,
    }


def run(config_json: str, model_dir: str, holdout_dir: str, evaluation_dir: str) -> dict:
    """Register the trained model; move the champion alias if the gate says so."""
    loaded = from_json(config_json)
    cfg = loaded.config
    info = tables.read_json(model_dir, RUN_FILE)
    contract = Contract.load(model_dir)
    holdout = tables.read_tables(holdout_dir)[HOLDOUT]
    metric = cfg.model.primary_metric or ""
    challenger_value = tables.read_json(evaluation_dir, METRICS_FILE)[f"holdout_{metric}"]
    with events.stage("register") as out:
        mlflow = tracking.configure(loaded.place)
        again = already_registered(mlflow, cfg.model.name, info["run_id"])
        if again is not None:  # a rerun whose train stage was reused: nothing new to register
            out.update(again)
            return again
        champ: Pinned | None
        try:
            champ = load_alias(mlflow, cfg.model.name, CHAMPION)
        except NoVersion:
            champ = None
        champ_value, why = (None, "")
        if champ is not None and not info["sampled"]:
            own = fit_rows.saved(model_dir)  # the challenger's own share of repeated rows
            champ_value, why = champion_on(
                loaded.place, champ, holdout, metric, contract.classes, own
            )
        version = mlflow.register_model(info["model_uri"], cfg.model.name)
        integrity.record(mlflow, cfg.model.name, int(version.version))  # before any alias
        client = mlflow.MlflowClient()
        client.set_registered_model_alias(cfg.model.name, CHALLENGER, version.version)
        decision = _decide(cfg.model.gate, metric, challenger_value, champ_value, champ, info, why)
        decision, shadows = _shadow_first(client, cfg.model, version.version, decision, champ)
        if decision.promote:
            client.set_registered_model_alias(cfg.model.name, CHAMPION, version.version)
        number = int(version.version)
        _record(
            client,
            cfg.model.name,
            number,
            decision,
            info,
            contract,
            metric,
            champ,
            challenger_value,
            champ_value,
        )
        result = {
            "model": cfg.model.name,
            "version": number,
            "promoted": decision.promote,
            "shadowing": shadows,
            "reason": decision.reason,
            "challenger": round(challenger_value, 4) if math.isfinite(challenger_value) else None,
            "champion": round(champ_value, 4) if champ_value is not None else None,
            "champion_version": number if decision.promote else (champ.version if champ else None),
        }
        out.update(result)
    return result


def _shadow_first(
    client: Any, model: Any, version: str, decision: Decision, champ: Pinned | None
) -> tuple[Decision, bool]:
    """With model.gate.shadow_days, a challenger the gate would promote over a champion becomes
    the shadow instead: live traffic decides (monitor/shadow_gate.py), not this holdout alone."""
    days = model.gate.shadow_days
    if not (decision.promote and champ is not None and days):
        return decision, False
    client.set_registered_model_alias(model.name, SHADOW, version)
    reason = (
        f"{decision.reason}; it shadows the champion for {days:g} days of requests first "
        "(model.gate.shadow_days)"
    )
    return Decision(False, reason), True


def _decide(
    policy: Any,
    metric: str,
    challenger: float,
    champion: float | None,
    champ: Pinned | None,
    info: dict,
    why: str,
) -> Decision:
    """The gate's decision, with why the champion was scored as it was when that matters."""
    decision = gate(
        metric,
        challenger,
        champion,
        policy.margin,
        has_champion=champ is not None,
        sampled=info["sampled"],
        incomparable=why if champion is None else "",
        min_metric=policy.min_metric,
        auto_promote=policy.auto_promote,
    )
    if why and champion is not None:  # scored, but not with the model it serves
        decision = Decision(decision.promote, f"{decision.reason} ({why})")
    return decision


def _record(
    client: Any,
    name: str,
    version: int,
    decision: Decision,
    info: dict,
    contract: Contract,
    metric: str,
    champ: Pinned | None,
    challenger: float,
    champion: float | None,
) -> None:
    """The decision in the alias history and as tags of the new version."""
    history.record(
        client,
        name,
        alias=CHAMPION,
        from_version=champ.version if champ else None,
        to_version=version if decision.promote else None,
        by=f"gate (run {info['run_id'][:8]}, v{version})",
        reason=decision.reason,
        numbers={
            "metric": metric,
            "challenger": challenger,
            "champion": champion,
            "challenger_version": version,
        },
        moved=decision.promote,
    )
    tags: dict[str, Any] = {
        "mlrig.gate": decision.reason,
        "mlrig.gate.metric": metric,
        "mlrig.gate.challenger": challenger,
        "mlrig.gate.champion": champion if champion is not None else "",
        "mlrig.gate.champion_version": champ.version if champ else "",
        "mlrig.feature_set": contract.features.version if contract.features else "",
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, str(version), key, str(value))
