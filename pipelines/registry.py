"""Every pipeline mlrig can run, compile or submit, by name."""

from collections.abc import Callable
from typing import Any

from mlrig.components.config.slices import PARTS, STAGES, slices
from mlrig.pipelines.scoring import scoring_parts_pipeline, scoring_pipeline
from mlrig.pipelines.training import training_pipeline

PIPELINES: dict[str, Callable] = {
    "training": training_pipeline,
    "scoring": scoring_pipeline,
    "scoring-parts": scoring_parts_pipeline,
}
# the config sections each pipeline is given (its tasks', components/config/slices.py)
GIVEN = {"training": PARTS, "scoring": STAGES["score"], "scoring-parts": STAGES["score"]}


def arguments(loaded: Any, pipeline: str) -> dict[str, Any]:
    """A run's config arguments: the config's folder and the sections the pipeline's tasks read."""
    every = slices(loaded)
    return {"root": every["root"], **{name: every[name] for name in GIVEN[pipeline]}}
