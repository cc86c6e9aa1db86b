"""The one error every source reader raises."""

from __future__ import annotations


class SourceError(RuntimeError):
    """A table could not be read; the message names the table and the source."""
