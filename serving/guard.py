"""Two ASGI middlewares in front of the prediction routes, so that every answer to a bad request
is a 4xx in the user's words:

- JsonOnly: /predict and /predict_batch take JSON only. Any other declared media type (forms,
  multipart with or without a boundary, pickles, octet streams) is answered 415 before BentoML
  parses it; BentoML would otherwise parse forms and multipart itself, and a multipart body
  without a boundary became a 500.
- UserErrors: BentoML's validation errors name its internal classes ("… for
  PredictRequestIODescriptor") and link pydantic's docs; they are rewritten to name the fields
  only. 5xx bodies are left alone (BentoML's say nothing internal; mlrig's 503s say why).
"""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
ROUTES = ("/predict", "/predict_batch")
JSON_HINT = "Content-Type: application/json"


def _media_type(scope: Scope) -> str:
    headers = dict(scope.get("headers") or [])
    raw = headers.get(b"content-type", b"").decode("latin-1")
    return raw.split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media in ("", "application/json") or (
        media.startswith("application/") and media.endswith("+json")
    )


async def answer(send: Any, status: int, body: dict[str, Any]) -> None:
    """Send one whole JSON response and close the connection."""
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class JsonOnly:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") in ROUTES:
            media = _media_type(scope)
            if not _is_json(media):
                why = f"unsupported content type '{media}': send a JSON object with " + JSON_HINT
                await answer(send, 415, {"error": why})
                return
        await self.app(scope, receive, send)


def field_loc(loc: list[Any]) -> list[Any]:
    """Where an error is, down to the field: pydantic adds the member of a nullable field's type
    union (['age', 'int'], ['rows', 0, 'age', 'float']), which names no part of the request."""
    field = 2 if len(loc) > 2 and loc[0] == "rows" and isinstance(loc[1], int) else 0
    return loc[: field + 1]


def user_body(status: int, raw: bytes) -> dict[str, Any] | None:
    """The body to send instead of BentoML's, or None to keep it."""
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict) or "detail" not in body or not isinstance(body["detail"], list):
        return None
    detail: list[dict[str, Any]] = []
    for d in body["detail"]:
        if not isinstance(d, dict):
            continue
        loc = field_loc(list(d.get("loc") or []))
        if any(seen["loc"] == loc for seen in detail):  # int | float: one error per field
            continue
        detail.append(
            {"loc": loc, "msg": str(d.get("msg", "")), "type": str(d.get("type", "value_error"))}
        )
    fields = sorted({str(d["loc"][0]) for d in detail if d["loc"]})
    summary = f"invalid request: {', '.join(fields)}" if fields else "invalid request body"
    return {"error": summary, "detail": detail}


class UserErrors:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") not in ROUTES:
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        chunks: list[bytes] = []

        async def wrapped(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
                held = message
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            replaced = user_body(held["status"], b"".join(chunks))
            if replaced is None:
                await send(held)
                await send({"type": "http.response.body", "body": b"".join(chunks)})
            else:
                await answer(send, held["status"], replaced)

        await self.app(scope, receive, wrapped)
