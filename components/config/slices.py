"""The config cut into sections for pipeline tasks: each task is given, as typed KFP parameters,
only the sections its stage reads, and a stage that reads a section it was not given fails,
naming the section (never a silent default).

`slices(loaded)` is what a pipeline run is given (each top-level section as its own parameter, and
the config's folder); `config_of(root, **given)` rebuilds, inside a task, the config JSON its stage
takes, with the sections not given marked absent (schema Config: SectionNotGiven)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from mlrig.components.config import reads
from mlrig.components.config.schema import Config

# what each stage reads (the stage cache records the same at run time: cache.py, reads.py)
STAGES: dict[str, tuple[str, ...]] = {
    "ingest": ("dataset", "model", "workdir"),
    "validate": ("dataset", "model", "workdir"),
    "features": ("dataset", "features", "model", "project", "serving", "stores", "workdir"),
    "eda": ("dataset", "project", "stores", "workdir"),
    "train": ("dataset", "model", "profile", "project", "stores", "workdir"),
    "evaluate": ("model", "project", "stores", "workdir"),
    "register": ("dataset", "features", "model", "project", "stores", "workdir"),
    "materialize": ("dataset", "features", "model", "project", "serving", "stores", "workdir"),
    "score": ("dataset", "model", "stores", "workdir"),
}
PARTS = tuple(sorted({name for names in STAGES.values() for name in names}))
DICTS = frozenset({"dataset", "features", "model", "serving", "stores"})


def parameter(name: str) -> str:
    """A section's KFP parameter name (`model_section`: a task's `model` is its model artifact)."""
    return f"{name}_section" if name in DICTS else name


def task_arguments(stage: str, root: Any, parts: dict[str, Any]) -> dict[str, Any]:
    """A stage's task arguments, from the pipeline's parameters by section name."""
    return {"root": root, **{parameter(name): parts[name] for name in STAGES[stage]}}


def slices(loaded: Any) -> dict[str, Any]:
    """A pipeline run's arguments: the config's folder and each top-level section. A section's
    values at their defaults are left out (the task types the section again, restoring them):
    KFP refuses a null anywhere in a dict parameter, and most nulls are defaults."""
    data = json.loads(loaded.to_json())
    with reads.paused():  # handing the sections on is not reading them
        trimmed = loaded.config.model_dump(mode="json", exclude_defaults=True)
    out = {"root": data["root"]}
    for name in PARTS:
        value = trimmed.get(name, {}) if name in DICTS else data["config"][name]
        if name in DICTS and _has_null(value):
            raise ValueError(
                f"{name}: a value set to null where its default is not null cannot be "
                "handed to a pipeline task (KFP refuses nulls); leave it out"
            )
        out[name] = value
    if "candidates" in out.get("model", {}):
        out["model"] = {**out["model"], "candidates": _as_text(out["model"]["candidates"])}
    return out


# A dict parameter travels as a protobuf Struct, which holds every number as a float: a search
# space's choices `num_leaves: [15, 31]` reached the task as 15.0 and 31.0, which LightGBM refuses
# (and `max_features: [1]`, one column, would have become 1.0, all of them). The candidates go as
# JSON text, read back as written.
CANDIDATES_TEXT = "json:"


def _as_text(candidates: dict[str, Any]) -> str:
    return CANDIDATES_TEXT + json.dumps(candidates)


def _from_text(model: dict[str, Any]) -> dict[str, Any]:
    text = model.get("candidates")
    if isinstance(text, str) and text.startswith(CANDIDATES_TEXT):
        return {**model, "candidates": json.loads(text[len(CANDIDATES_TEXT) :])}
    return model


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    return False


def config_of(root: str, **given: Any) -> str:
    """The config JSON a stage takes, from the sections its task was given."""
    absent = sorted(set(Config.model_fields) - set(given))
    if "model" in given:
        given = {**given, "model": _from_text(given["model"])}
    return json.dumps({"root": root, "config": given, "absent": absent})


def config_from_task(arguments: dict[str, Any]) -> str:
    """The config JSON from a task's own arguments (its `locals()` on entry): its root and the
    sections among them."""
    given = {name: arguments[parameter(name)] for name in PARTS if parameter(name) in arguments}
    return config_of(arguments["root"], **given)


def sliced_config(data: dict[str, Any], absent: list[str]) -> Config:
    """A Config of the given sections only (each typed as the schema types it); reading one of
    the absent sections raises SectionNotGiven."""
    fields = Config.model_fields
    typed = {
        name: TypeAdapter(fields[name].annotation).validate_python(value)
        for name, value in data.items()
    }
    config = Config.model_construct(_fields_set=set(typed), **typed)
    config._absent = frozenset(absent)
    return config
