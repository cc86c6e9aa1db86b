"""Every pipeline mlrig can run, compile or submit, by name."""

from collections.abc import Callable

from mlrig.pipelines.scoring import scoring_pipeline
from mlrig.pipelines.training import training_pipeline

PIPELINES: dict[str, Callable] = {"training": training_pipeline, "scoring": scoring_pipeline}
