"""The typed mlrig config: one dataset, its features, stores, model and serving settings, one
module per section. Cross-field rules are checked once, at load (loader.py, checks.py), with the
key named."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr

from mlrig.components.config import reads
from mlrig.components.config.schema.base import (  # noqa: F401  (the config's names)
    AGGREGATIONS,
    CANDIDATE_TASKS,
    CLASSIFICATION_METRICS,
    DEFAULT_CANDIDATES,
    DEFAULT_METRIC,
    LOWER_IS_BETTER,
    REGRESSION_METRICS,
    CandidateName,
    ColumnType,
    Label,
    Strict,
)
from mlrig.components.config.schema.dataset import (  # noqa: F401  (the config's names)
    DERIVATION_KINDS,
    AddMinutes,
    ColumnSpec,
    Concat,
    Dataset,
    DateParts,
    Derivation,
    Equals,
    FileSource,
    GreaterThan,
    HttpSource,
    SourceLocation,
    SqlSource,
    Table,
)
from mlrig.components.config.schema.features import (  # noqa: F401  (the config's names)
    Aggregation,
    Entity,
    Features,
    FeatureView,
)
from mlrig.components.config.schema.model import (  # noqa: F401  (the config's names)
    Gate,
    Model,
    Range,
    SearchSpace,
    Threshold,
    Tuning,
)
from mlrig.components.config.schema.serving import (  # noqa: F401  (the config's names)
    Monitor,
    Serving,
)
from mlrig.components.config.schema.stores import (  # noqa: F401  (the config's names)
    Stores,
)


class SectionNotGiven(RuntimeError):
    """A stage read a config section its pipeline task was not given."""


class Config(Strict):
    """One project: its dataset, features, stores, model, serving and monitoring settings."""

    project: str = Field(
        description="the project's name: the default of the model's name, the MLflow "
        "experiment and the Feast project"
    )
    workdir: str = Field(
        ".mlrig",
        description="the folder (relative to the config) for the pipeline root, the stage cache, "
        "feature tables and reports",
    )
    profile: str = Field(
        "local",
        description="the profile in effect (set by --profile, MLRIG_PROFILE or this key): local, "
        "cluster, kind, minikube or one of `profiles`",
    )
    dataset: Dataset
    features: Features = Field(default_factory=Features)
    stores: Stores = Field(default_factory=Stores)
    model: Model = Field(default_factory=Model)
    serving: Serving = Field(default_factory=Serving)
    monitor: Monitor = Field(default_factory=Monitor)
    profiles: dict[str, dict] = Field(
        default_factory=dict,
        description="named overrides of any section, merged over the file when the profile is "
        "chosen",
    )

    # its cross-field defaults and checks run once, at load (loader.py, checks.py)

    # a pipeline task given only some sections (slices.py): reading another one fails
    _absent: frozenset[str] = PrivateAttr(default_factory=frozenset)

    # every way a section is read is recorded (reads.py): attributes, dumps, iteration
    def __getattribute__(self, name: str) -> Any:
        if name in SECTIONS:
            reads.note((name,))
            private = object.__getattribute__(self, "__pydantic_private__") or {}
            if name in private.get("_absent", ()):
                raise SectionNotGiven(
                    f"config section `{name}` was not given to this pipeline task "
                    "(components/config/slices.py lists each stage's sections)"
                )
        return super().__getattribute__(name)

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        reads.note(_dumped(kwargs.get("include")))
        return super().model_dump(**kwargs)

    def model_dump_json(self, **kwargs: Any) -> str:
        reads.note(_dumped(kwargs.get("include")))
        return super().model_dump_json(**kwargs)

    def __iter__(self) -> Any:
        reads.note(SECTIONS)
        return super().__iter__()


SECTIONS = frozenset(Config.model_fields)


def _dumped(include: Any) -> Any:
    return SECTIONS if include is None else [name for name in include if name in SECTIONS]
