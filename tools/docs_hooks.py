"""MkDocs hooks: the reference pages generated from the code at every build, never committed.

- reference/config.md: every field of mlrig.yaml (its dotted path, type, default and description),
  read from the pydantic schema (components/config/schema/);
- reference/cli.md: every command and option, read from the typer app (mlrig/cli/);
- benchmarks.md: benchmarks/RESULTS.md, the dated measurements.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PAGES = {"reference/config.md", "reference/cli.md", "benchmarks.md"}


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages to the site."""
    from mkdocs.structure.files import File

    for uri, content in pages().items():
        files.append(File.generated(config, uri, content=content))
    return files


def pages() -> dict[str, str]:
    results = (REPO / "benchmarks" / "RESULTS.md").read_text()
    return {
        "reference/config.md": config_reference(),
        "reference/cli.md": cli_reference(),
        "benchmarks.md": results.replace("# Benchmark results", "# Benchmark results", 1),
    }


# -- the configuration ------------------------------------------------------------------------


def config_fields() -> list[tuple[str, str, str, str, str]]:
    """(section, dotted path, type, default, description) of every field, sections in order."""
    from mlrig.components.config.schema import Config

    rows: list[tuple[str, str, str, str, str]] = []
    _walk(Config, "", "(top level)", rows, set())
    return rows


def _walk(model: Any, prefix: str, section: str, rows: list, seen: set) -> None:
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        nested = _models(field.annotation)
        about = field.description or (_doc(nested[0][1]) if nested else "")
        rows.append((section, path, _type(field.annotation), _default(field), about))
        for suffix, sub in nested:
            label = f"{path}{suffix}" + (f" ({sub.__name__})" if len(nested) > 1 else "")
            if label not in seen:
                seen.add(label)
                _walk(sub, f"{path}{suffix}.", label, rows, seen)


def _models(annotation: Any) -> list[tuple[str, Any]]:
    """The models a field holds, with the path suffix that reaches them (.<name> in a mapping,
    [] in a list)."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [("", annotation)]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is dict and len(args) == 2:
        return [(".<name>" + s, m) for s, m in _models(args[1])]
    if origin is list and args:
        return [("[]" + s, m) for s, m in _models(args[0])]
    if origin is typing.Annotated:
        return _models(args[0])
    if origin in (typing.Union, types.UnionType):
        return [found for arg in args for found in _models(arg)]
    return []


def _doc(model: Any) -> str:
    return (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")


def _type(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or str(annotation)
    for noise in ("typing.", "mlrig.components.config.schema.", "dataset.", "features.",
                  "model.", "stores.", "serving.", "base.", "NoneType"):  # fmt: skip
        text = text.replace(noise, "null" if noise == "NoneType" else "")
    return text.replace("<class '", "").replace("'>", "")


def _default(field: Any) -> str:
    from pydantic import BaseModel
    from pydantic_core import PydanticUndefined

    if field.default_factory is not None:
        made = field.default_factory()
        return "(see below)" if isinstance(made, BaseModel) else f"`{made!r}`"
    if field.default is PydanticUndefined:
        return "required"
    return f"`{field.default!r}`"


def config_reference() -> str:
    lines = [
        "# Configuration reference",
        "",
        "Every field of `mlrig.yaml`, generated from the schema (`components/config/schema/`)",
        "when the site is built. `<name>` stands for a key you choose (a table's or a column's",
        "name), `[]` for each item of a list. Rules between fields are checked when the config is",
        "loaded (`components/config/checks.py`); `mlrig config show` prints the effective config.",
    ]
    sections: dict[str, list[tuple[str, str, str, str]]] = {}
    for where, *row in config_fields():
        sections.setdefault(where, []).append(tuple(row))
    for where, rows in sections.items():
        lines += [
            "",
            f"## `{where}`",
            "",
            "| field | type | default | description |",
            "|---|---|---|---|",
        ]
        for path, kind, default, about in rows:
            cells = [f"`{path}`", f"`{kind}`", default, about.replace("\n", " ")]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell."""
    return text.replace("|", "\\|")


# -- the command line ---------------------------------------------------------------------------


def cli_commands() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(command, help, [(parameter, help)]) of every command, groups walked in order."""
    import typer.main

    from mlrig.cli import app

    out: list[tuple[str, str, list[tuple[str, str]]]] = []
    _commands(typer.main.get_command(app), "mlrig", out)
    return out


def _commands(command: Any, name: str, out: list) -> None:
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for sub_name, sub in subcommands.items():
            _commands(sub, f"{name} {sub_name}", out)
        return
    params = []
    for param in command.params:
        if param.name == "help":
            continue
        flags = ", ".join(param.opts) if getattr(param, "opts", None) else param.name
        label = flags if param.param_type_name == "option" else param.name.upper()
        params.append((label, getattr(param, "help", None) or ""))
    out.append((name, (command.help or "").strip(), params))


def cli_reference() -> str:
    lines = ["# CLI reference", "",
             "Every `mlrig` command and its parameters, generated from the commands (`mlrig/cli/`)",
             "when the site is built. `mlrig COMMAND --help` prints the same."]  # fmt: skip
    for name, about, params in cli_commands():
        lines += ["", f"## `{name}`", "", about.replace("\n", " "), ""]
        if params:
            lines += ["| parameter | meaning |", "|---|---|"]
            lines += [f"| `{p}` | {_cell(h)} |" for p, h in params]
    return "\n".join(lines) + "\n"
