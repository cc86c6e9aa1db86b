"""Where a project keeps its state: the `stores` section, the folder its relative paths are read
against and its work folder. The MLflow and Feast adapters and the prediction log are given this,
never the whole config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlrig.components.config.schema import Stores


@dataclass(frozen=True)
class Place:
    stores: Stores
    root: Path  # the config file's folder
    workdir: Path  # the work folder (pipeline root, cache, local logs), resolved

    def path(self, value: str) -> Path:
        """A configured path, relative to the config file's folder unless absolute."""
        return resolve(self.root, value)


def resolve(root: Path, value: str) -> Path:
    """A configured path, relative to `root` unless absolute."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else root / p
