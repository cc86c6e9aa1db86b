"""The alias history of a registered model: every gate decision and manual promotion, kept as
registered-model tags (MLflow keeps no alias history of its own), so it lives as long as the
model and needs no other store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

PREFIX = "mlrig.history."


def record(
    client: Any,
    name: str,
    *,
    alias: str,
    from_version: int | None,
    to_version: int | None,
    by: str,
    reason: str,
    numbers: dict[str, Any] | None = None,
    moved: bool = True,
) -> dict[str, Any]:
    """Append one entry (a tag whose key sorts in time order)."""
    now = datetime.now(UTC)
    entry = {
        "when": now.isoformat(timespec="seconds"),
        "alias": alias,
        "from": from_version,
        "to": to_version,
        "moved": moved,
        "by": by,
        "reason": reason,
        "numbers": numbers or {},
    }
    key = f"{PREFIX}{now.strftime('%Y%m%dT%H%M%S%f')}"
    client.set_registered_model_tag(name, key, json.dumps(entry, default=str)[:4900])
    return entry


def read(client: Any, name: str) -> list[dict[str, Any]]:
    """Every entry, oldest first."""
    tags = client.get_registered_model(name).tags or {}
    return [json.loads(tags[k]) for k in sorted(tags) if k.startswith(PREFIX)]
