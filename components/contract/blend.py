"""A blend of fitted models: the weighted mean of their class probabilities (classifiers) or
values (regression). Released when train's ensemble rule finds it beats its members
(components/train/ensemble.py); served like any fitted pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator


class Blend(BaseEstimator):
    """members: fitted models with predict (and predict_proba for classifiers); weights: their
    shares, summing to 1; task: binary, multiclass or regression."""

    def __init__(
        self, members: list[Any] | None = None, weights: list[float] | None = None, task: str = ""
    ) -> None:
        self.members = members
        self.weights = weights
        self.task = task

    @property
    def classes_(self) -> np.ndarray:
        return np.unique(np.concatenate([np.asarray(m.classes_) for m in self.members or []]))

    def predict_proba(self, x: Any) -> np.ndarray:
        if self.task == "regression":
            raise AttributeError("a regression blend has no class probabilities")
        classes = self.classes_
        total = np.zeros((len(x), len(classes)))
        for member, weight in zip(self.members or [], self.weights or [], strict=True):
            columns = np.searchsorted(classes, np.asarray(member.classes_))
            total[:, columns] += weight * member.predict_proba(x)
        return total

    def predict(self, x: Any) -> np.ndarray:
        if self.task != "regression":
            return self.classes_[np.argmax(self.predict_proba(x), axis=1)]
        members = zip(self.members or [], self.weights or [], strict=True)
        return np.sum([w * np.asarray(m.predict(x), dtype=float) for m, w in members], axis=0)

    def set_params(self, **params: Any) -> Blend:
        """Parameters of the members' steps (e.g. model__n_jobs) go to every member that has
        them; the blend's own (members, weights, task) to the blend."""
        own = {k: v for k, v in params.items() if k in ("members", "weights", "task")}
        super().set_params(**own)
        for key, value in params.items():
            if key not in own:
                for member in self.members or []:
                    if key.split("__")[0] in dict(getattr(member, "steps", [])):
                        member.set_params(**{key: value})
        return self
