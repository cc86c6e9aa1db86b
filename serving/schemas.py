"""Strict request schema, built from the config's serving.request_fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, create_model

_TYPES: dict[str, Any] = {
    "str": Annotated[StrictStr, Field(min_length=1, max_length=256)],
    "int": StrictInt,
    "float": Annotated[float, Field(allow_inf_nan=False)],
    "bool": StrictBool,
    "datetime": datetime,
}


class _StrictBase(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def request_model(fields: dict[str, str]) -> type[BaseModel]:
    """A pydantic model: every field required, no unknown fields, no NaN/inf, no type coercion
    from numbers to strings."""
    spec: dict[str, Any] = {name: (_TYPES[kind], ...) for name, kind in fields.items()}
    return create_model("PredictRequest", __base__=_StrictBase, **spec)
