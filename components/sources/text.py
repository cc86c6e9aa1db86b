"""Which columns a CSV is read with as text: the named ones (codes such as zip "02139" keep their
zeros), or all of them (`mlrig init` judges each column's type from its text)."""

from __future__ import annotations

from typing import Any, Literal

Text = list[str] | Literal["all"]


def csv_dtype(text: Text) -> Any:
    """pandas' dtype= for a CSV read."""
    return str if text == "all" else dict.fromkeys(text, str)
