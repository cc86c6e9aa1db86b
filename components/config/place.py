"""Where a project keeps its state: the `stores` section and the folder its relative paths are
read against. The MLflow and Feast adapters are given this, never the whole config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlrig.components.config.schema import Stores


@dataclass(frozen=True)
class Place:
    stores: Stores
    root: Path

    def path(self, value: str) -> Path:
        """A configured path, relative to the config file's folder unless absolute."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.root / p
