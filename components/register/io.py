"""Register stage I/O: a new model version as 'challenger', promoted to 'champion' by the gate."""

from __future__ import annotations

from typing import Any

from mlrig.components.common import events, tables, tracking
from mlrig.components.config.loader import from_json
from mlrig.components.evaluate.io import read_metrics
from mlrig.components.evaluate.metrics import holdout_metrics, scores
from mlrig.components.register.core import gate
from mlrig.components.train.io import HOLDOUT, read_run

CHAMPION = "champion"
CHALLENGER = "challenger"


def _champion_score(mlflow: Any, name: str, holdout: Any, info: dict, metric: str) -> tuple:
    """(version, metric on this holdout) of the current champion, or (None, None)."""
    client = mlflow.MlflowClient()
    try:
        current = client.get_model_version_by_alias(name, CHAMPION)
    except mlflow.exceptions.MlflowException:
        return None, None
    champion = mlflow.sklearn.load_model(f"models:/{name}@{CHAMPION}")
    needed = list(getattr(champion, "feature_names_in_", info["inputs"]))
    if any(c not in holdout.columns for c in needed):
        return current.version, None
    y_score = scores(champion, holdout, needed, info["target"], info["task"])
    value = holdout_metrics(holdout[info["target"]].to_numpy(), y_score, info["task"])[metric]
    return current.version, value


def run(config_json: str, model_dir: str, holdout_dir: str, evaluation_dir: str) -> dict:
    """Register the trained model; move the champion alias if the gate says so."""
    loaded = from_json(config_json)
    cfg = loaded.config
    info = read_run(model_dir)
    holdout = tables.read_tables(holdout_dir)[HOLDOUT]
    metric = cfg.model.primary_metric
    challenger_value = read_metrics(evaluation_dir)[f"holdout_{metric}"]
    with events.stage("register") as out:
        mlflow = tracking.configure(loaded)
        champ_version, champ_value = _champion_score(mlflow, cfg.model.name, holdout, info, metric)
        version = mlflow.register_model(info["model_uri"], cfg.model.name)
        client = mlflow.MlflowClient()
        client.set_registered_model_alias(cfg.model.name, CHALLENGER, version.version)
        decision = gate(metric, challenger_value, champ_value, cfg.model.promotion_min_delta)
        if champ_version is not None and champ_value is None:
            decision.promote, decision.reason = True, "champion cannot score the current inputs"
        if decision.promote:
            client.set_registered_model_alias(cfg.model.name, CHAMPION, version.version)
        client.set_model_version_tag(cfg.model.name, version.version, "mlrig.gate", decision.reason)
        result = {
            "model": cfg.model.name,
            "version": int(version.version),
            "promoted": decision.promote,
            "reason": decision.reason,
            "champion_version": int(version.version) if decision.promote else champ_version,
        }
        out.update(result)
    return result
