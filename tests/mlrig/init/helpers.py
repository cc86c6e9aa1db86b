"""Running `mlrig init` in process on a written table, for the init tests and scenario suites."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from mlrig.cli import app


def init_table(frame: pd.DataFrame, folder, name: str, *args: str) -> tuple[str, object]:
    """Write the frame as folder/name (CSV), run `mlrig init` on it with args in process; the
    printed text on one line, and the written config's path."""
    frame.to_csv(folder / name, index=False)
    return init_file(folder / name, *args)


def init_file(path, *args: str) -> tuple[str, object]:
    """`mlrig init` on a written file, in process: what it printed on one line, the config."""
    out = path.parent / "mlrig.yaml"
    result = CliRunner().invoke(app, ["init", str(path), *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split()), out
