"""The request schema a served version is checked with, and its swap on a hot reload.

BentoML checks each request against its API's `input_spec` before the handler runs, and reads that
spec per request. A hot reload to a version with other request fields puts the new version in
place first, then its schema in the APIs; a request checked by the old schema in between is
checked again by the served version's own (`check`), so no answer comes from a mixed schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from mlrig.serving.predictor import RequestError
from mlrig.serving.schemas import batch_model, renamed, request_model


@dataclass(frozen=True, eq=False)
class RequestSchema:
    """One version's request fields, as the pydantic models BentoML checks requests with."""

    fields: dict[str, Any]
    model: type[BaseModel]
    batch: type[BaseModel]
    renamed: dict[str, str]  # inner Python name -> column, for names pydantic cannot take

    @classmethod
    def of(cls, fields: dict[str, Any], max_batch_rows: int) -> RequestSchema:
        model = request_model(fields)
        return cls(fields, model, batch_model(model, max_batch_rows), renamed(model))

    def check(self, request: dict[str, Any], where: str = "") -> dict[str, Any]:
        """The request (column names) checked against these fields; RequestError naming the
        first field that does not fit. A null field these fields do not know is a field the
        client did not send (the earlier schema filled it in), and is dropped."""
        sent = {k: v for k, v in request.items() if v is not None or k in self.fields}
        try:
            checked = self.model.model_validate(sent)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in (where, *error["loc"]) if p != "")
            message = f"{error['msg']} (the served version's request fields)"
            raise RequestError(field, message) from None
        return checked.model_dump(by_alias=True)

    def swap_into(self, service: Any) -> None:
        """Make the service's APIs check requests with this schema from the next request on."""
        service.apis["predict"].input_spec = self.model
        service.apis["predict_batch"].input_spec = self.batch

    def difference(self, other: RequestSchema) -> str:
        """What other adds and drops, as text for the log."""
        added = sorted(set(other.fields) - set(self.fields))
        dropped = sorted(set(self.fields) - set(other.fields))
        changed = sorted(
            n for n in set(self.fields) & set(other.fields) if self.fields[n] != other.fields[n]
        )
        named = (("added", added), ("dropped", dropped), ("changed", changed))
        parts = [f"{what} {names}" for what, names in named if names]
        return ", ".join(parts) or "same names"
