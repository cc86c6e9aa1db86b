"""What a logged row holds besides its request: its id, the score the monitor watches, JSON text
and the time it was logged."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import Any

_ENCODER = json.JSONEncoder(default=str, allow_nan=True)  # one encoder, not one per value


def as_json(value: Any) -> str:
    return _ENCODER.encode(value)


def new_ids(count: int = 1) -> list[str]:
    """Request ids: 32 hex digits, the microseconds since the epoch (14), the row's place in its
    batch (6), then 48 random bits. Time-ordered ids are appended at the end of the primary-key
    index: random ones (uuid4) land on a random page each, and on a log of 400,000 predictions a
    1,000-row commit took 50 ms instead of 5 (benchmarks/serving_latency.py measures the batch).
    Ordered by id, a batch logged at one instant reads back in its rows' order."""
    stamp = f"{time.time_ns() // 1000:014x}"
    return [f"{stamp}{i & 0xFFFFFF:06x}{os.urandom(6).hex()}" for i in range(count)]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return float(value)


def score_of(prediction: dict[str, Any]) -> float | None:
    """The number the monitor watches, as the reference scores it (train/io.score_column): the
    positive-class probability, the top class's probability (a "probabilities" object or
    probability_<class> columns), else a regression's value. A class label is not a score."""
    if (single := _number(prediction.get("probability"))) is not None:
        return single
    spread = prediction.get("probabilities")
    values = (
        list(spread.values())
        if isinstance(spread, dict)
        else [v for k, v in prediction.items() if str(k).startswith("probability_")]
    )
    numbers = [n for n in map(_number, values) if n is not None]
    if numbers:
        return max(numbers)
    if values:  # a classifier's row without its probabilities
        return None
    return _number(prediction.get("prediction"))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
