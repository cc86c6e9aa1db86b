"""The docs site's generated reference: every config field and every command appears, with what the
code says of it, and `mkdocs build --strict` passes (links, nav, the generated pages)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO


def _hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", REPO / "tools" / "docs_hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _every_field(model, prefix: str = "") -> set[str]:
    """Every dotted field name of the config, walked independently of the generator."""
    import typing

    from pydantic import BaseModel

    def nested(annotation):
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return [annotation]
        return [m for arg in typing.get_args(annotation) for m in nested(arg)]

    names = set()
    for name, field in model.model_fields.items():
        names.add(f"{prefix}{name}")
        for sub in nested(field.annotation):
            names |= _every_field(sub, f"{prefix}{name}.")
    return names


def test_every_config_field_is_in_the_reference_with_its_description():
    from mlrig.components.config.schema import Config, Stores

    page = _hooks().config_reference()
    documented = {
        path.replace(".<name>", "").replace("[]", "") for _, path, *_ in _hooks().config_fields()
    }
    assert _every_field(Config) <= documented
    assert "`stores.prediction_log`" in page
    assert Stores.model_fields["prediction_log"].description.split("(")[0].strip() in page
    assert "`dataset.tables.<name>.columns.<name>.type`" in page
    assert "| `model.cv_folds` | `int` | `3` |" in page


def test_every_command_is_in_the_cli_reference():
    import typer.main

    from mlrig.cli import app

    page = _hooks().cli_reference()
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        subs = getattr(command, "commands", None) or {None: command}
        for sub in subs:
            assert f"## `mlrig {name}{' ' + sub if sub else ''}`" in page
    assert "| `--retrain` |" in page and "| `--until` |" in page


@pytest.mark.skipif(shutil.which("mkdocs") is None and not importlib.util.find_spec("mkdocs"),
                    reason="mkdocs is not installed (pip install -e '.[dev]')")  # fmt: skip
def test_the_site_builds_strict(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "config" / "index.html").exists()
    assert (
        "prediction_log" in (tmp_path / "site" / "reference" / "config" / "index.html").read_text()
    )
