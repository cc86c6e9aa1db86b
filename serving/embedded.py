"""mlrig in an application's own process: load a project's champion (or a pinned version) once and
predict dicts or frames through the same contract and one-row path as the service, with features
from the project's online store or passed in.

    from mlrig.serving.embedded import load

    model = load("mlrig.yaml")                    # the champion, resolved once
    model.predict({"customer_id": 7, ...})        # as POST /predict answers
    model.predict({...}, features={"spend__amount_sum_30d": 120.0})   # inputs the app holds
    model.predict_frame(frame)                    # a frame of requests -> a frame of answers
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mlrig.components.config.loader import load as load_config
from mlrig.serving.predictor import Predictor


class EmbeddedModel:
    """One model version of a project, loaded once; thread-safe for reads."""

    def __init__(self, predictor: Predictor) -> None:
        self._predictor = predictor

    @property
    def version(self) -> int:
        return self._predictor.model_version

    @property
    def request_fields(self) -> list[str]:
        """The fields a request carries (the contract's)."""
        return list(self._predictor.contract.request_fields)

    def predict(
        self, request: dict[str, Any], features: dict[str, Any] | None = None, explain: bool = False
    ) -> dict[str, Any]:
        """One answer, as POST /predict gives it (features: model inputs passed in, in place of
        the online store's; explain: with each input's contribution)."""
        return self._predictor.predict(dict(request), explain=explain, features=features)

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A frame of requests (the request fields as columns) -> a frame of answers, in order."""
        rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
        return pd.DataFrame(self._predictor.predict_many(rows), index=frame.index)


def load(
    config: str | Path = "mlrig.yaml", version: int | None = None, profile: str | None = None
) -> EmbeddedModel:
    """The project's champion (or `version`), ready to predict in this process."""
    return EmbeddedModel(Predictor(load_config(str(config), profile), version))
