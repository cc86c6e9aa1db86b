"""`mlrig explain REQUEST_ID`: the explanation of a logged prediction, from the inputs the log
kept and the model version that answered, the same as the live answer's had it asked."""

from __future__ import annotations

import json
from typing import Any

from mlrig.components.config.place import Place
from mlrig.components.contract.explain import explain_row, explainer_of
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.integrations.mlflow.registry import load_version
from mlrig.components.integrations.mlflow.samples import check_rows
from mlrig.components.monitor.predlog import log_exists, opened


class NotLogged(LookupError):
    """No logged prediction has that request id; the message says where it looked."""


def explain_logged(place: Place, request_id: str) -> dict[str, Any]:
    """The logged request's model, version, prediction, inputs and explanation."""
    if not log_exists(place):
        raise NotLogged("no prediction log yet (serving.log_predictions, then mlrig serve)")
    with opened(place) as log:
        row = log.one(request_id)
    if row is None:
        raise NotLogged(f"request_id '{request_id}' is not in the prediction log")
    mlflow = tracking.configure(place)
    pinned = load_version(mlflow, str(row["model"]), int(row["version"]))
    c = pinned.contract
    rows = lambda: check_rows(mlflow, pinned.run_id)[0]  # noqa: E731  (as the service samples)
    compiled, _ = explainer_of(
        pinned.model, c.task, c.inputs, c.categorical, len(c.classes), background=rows
    )
    inputs = json.loads(row["features"])
    return {
        "request_id": request_id,
        "model": row["model"],
        "model_version": int(row["version"]),
        "prediction": json.loads(row["prediction"]),
        "inputs": inputs,
        "explanation": explain_row(compiled, inputs),
    }
