"""How many threads a fitted model's LightGBM estimators predict with.

Training leaves them at one thread: serving answers one row at a time, where more threads only
wait for each other. A stage that scores many rows at once (evaluate) gives them its CPUs."""

from __future__ import annotations

from typing import Any


def set_threads(model: Any, threads: int) -> Any:
    """Every LightGBM estimator inside model (pipelines, blends, calibrated models) set to
    predict with `threads` threads; returns model."""
    if type(model).__name__.startswith("LGBM"):
        model.set_params(n_jobs=threads)
    for _, step in getattr(model, "steps", []):
        set_threads(step, threads)
    for member in getattr(model, "members", None) or []:
        set_threads(member, threads)
    inner = getattr(model, "model", None)
    if inner is not None and not isinstance(inner, str):
        set_threads(inner, threads)
    return model
