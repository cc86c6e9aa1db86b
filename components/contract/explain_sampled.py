"""Contributions of a model with no exact method (a multiclass or calibrated blend, a calibrated
forest), estimated by sampling: Shapley values over random orders of the inputs (Strumbelj and
Kononenko), each order starting from a row of a background sample (the version's holdout or
reference rows) and switching the inputs to the explained row's values one at a time.

Each order's steps add up to f(row) - f(its background row), so `base` (the mean output on the
background rows used) plus the contributions is the model's output exactly; each input's share is
the estimate, named "approximate" in `method`. The orders and background rows are fixed by a seed,
so one row is explained the same way every time (`mlrig explain` as the live answer)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.contract.assemble import model_frame
from mlrig.components.contract.metrics import scores

ORDERS = 32
BACKGROUND = 64


class Sampled:
    """Explains model rows (model inputs by name) by sampled Shapley values."""

    def __init__(
        self, model: Any, task: str, inputs: list[str], categorical: list[str], n_classes: int,
        background: pd.DataFrame, seed: int = 0,
    ) -> None:  # fmt: skip
        if background is None or not len(background):
            raise LookupError("no exact method, and no background rows to sample against")
        self.model, self.task, self.n_classes = model, task, n_classes
        self.inputs, self.categorical = inputs, categorical
        picked = background.sample(n=min(BACKGROUND, len(background)), random_state=seed)
        self.background = model_frame(picked, inputs, categorical).reset_index(drop=True)
        rng = np.random.default_rng(seed)
        self.orders = np.array([rng.permutation(len(inputs)) for _ in range(ORDERS)])
        rank = np.argsort(self.orders, axis=1)  # rank[o, j]: the step at which input j switches
        steps = np.arange(len(inputs) + 1)
        self.switched = rank[:, None, :] < steps[None, :, None]  # [orders, steps, inputs]
        self.starts = np.arange(ORDERS) % len(self.background)  # each order's background row
        self.method = (
            f"sampled Shapley values ({ORDERS} orders against {len(self.background)} background "
            "rows; approximate)"
        )

    def parts(self, row: dict[str, Any]) -> tuple[dict[str, float], float, str]:
        return self.parts_many([row])[0]

    def parts_many(self, rows: list[dict[str, Any]]) -> list[tuple[dict[str, float], float, str]]:
        explained = model_frame(
            pd.DataFrame(rows, columns=self.inputs), self.inputs, self.categorical
        )
        n, steps = len(self.inputs), ORDERS * (len(self.inputs) + 1)
        frame = pd.concat([self._walks(explained.iloc[i]) for i in range(len(explained))])
        out = np.asarray(scores(self.model, frame, self.task, self.n_classes))
        answers = []
        for i in range(len(explained)):
            chunk = out[i * steps : (i + 1) * steps]
            values, kind = self._output(chunk)
            walks = values.reshape(ORDERS, n + 1)
            steps_up = np.diff(walks, axis=1)  # the change as each input takes the row's value
            totals = np.zeros(n)
            for order, diffs in zip(self.orders, steps_up, strict=True):
                totals[order] += diffs
            contributions = dict(zip(self.inputs, (totals / ORDERS).tolist(), strict=True))
            answers.append((contributions, float(walks[:, 0].mean()), kind))
        return answers

    def _walks(self, row: pd.Series) -> pd.DataFrame:
        """ORDERS x (inputs + 1) rows: each order's background row, then one more input set to
        the row's value at each step."""
        data = {}
        for j, name in enumerate(self.inputs):
            base = self.background[name].to_numpy()[self.starts]
            data[name] = np.where(self.switched[:, :, j], row[name], base[:, None]).ravel()
        return model_frame(pd.DataFrame(data), self.inputs, self.categorical)

    def _output(self, chunk: np.ndarray) -> tuple[np.ndarray, str]:
        if self.task == "regression":
            return chunk.reshape(-1), "value"
        final = chunk.reshape(ORDERS, len(self.inputs) + 1, -1)[0, -1]  # f(row)
        k = 1 if self.task == "binary" else int(np.argmax(final))
        kind = "probability" if self.task == "binary" else f"probability of class {k}"
        return chunk[:, k], kind
