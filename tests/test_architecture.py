"""The house rules, read from the source's own imports and shapes (docs/architecture.md):
each wing imports only the wings below it, no stage imports another stage, only the Feast and
MLflow integrations import those libraries, no module imports itself through others, and no
function or file outgrows what one reading holds."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGES = {"components": "mlrig.components", "pipelines": "mlrig.pipelines",
            "serving": "mlrig.serving", "mlrig": "mlrig"}  # fmt: skip
STAGES = {"ingest", "validate", "features", "eda", "train", "evaluate", "register", "score",
          "monitor"}  # fmt: skip
BASE = {"config", "runtime"}
LIBRARIES = {"config": set(), "runtime": {"config"}, "sources": BASE, "contract": BASE,
             "integrations.feast": BASE | {"contract"},
             "integrations.mlflow": BASE | {"contract"}}  # fmt: skip
BELOW_STAGES = set(LIBRARIES) | {"sources"}
MAY_IMPORT = {
    **LIBRARIES,
    "stage": BELOW_STAGES,
    "pipelines": BELOW_STAGES | {"stage"},
    "serving": BELOW_STAGES | {"stage"},  # the edge: the model, the log, the gauges
    "mlrig.init": BASE | {"contract", "sources"},
    "mlrig.cluster": BASE | {"pipelines"},
    "mlrig.cli": BELOW_STAGES | {"stage", "pipelines", "serving", "mlrig.init", "mlrig.cluster"},
}
OWN_LIBRARY = {"feast": "integrations.feast", "mlflow": "integrations.mlflow"}
MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for folder, package in PACKAGES.items():
        for path in (REPO / folder).rglob("*.py"):
            parts = [p for p in path.relative_to(REPO / folder).with_suffix("").parts]
            found[".".join([package, *[p for p in parts if p != "__init__"]])] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            named = {f"{node.module}.{alias.name}" for alias in node.names}
            out |= (named & MODULES.keys()) or {node.module}
    return out


def wing(module: str) -> str:
    """mlrig.components.train.io -> 'stage'; ...integrations.feast.x -> 'integrations.feast'."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1:] == ["components"]:
        return module  # a package's root (mlrig, mlrig.components)
    if parts[1] == "components":
        if parts[2] == "integrations":
            return ".".join(parts[2:4])
        return "stage" if parts[2] in STAGES else parts[2]
    if parts[1] in ("pipelines", "serving"):
        return parts[1]
    return ".".join(parts[:2])


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if wing(module) == "stage" else None


def test_each_wing_imports_only_the_wings_below_it_and_no_stage_another():
    wrong = []
    for module, path in MODULES.items():
        for target in _imports(path) & MODULES.keys():
            mine, theirs = wing(module), wing(target)
            if mine == theirs and _stage(module) != _stage(target):
                wrong.append(f"{module} -> {target} (a stage imports another stage)")
            elif mine != theirs and theirs not in MAY_IMPORT[mine]:
                wrong.append(f"{module} -> {target} ({mine} may not import {theirs})")
    assert wrong == []


def test_only_the_feast_and_mlflow_integrations_import_feast_and_mlflow():
    wrong = []
    for module, path in MODULES.items():
        for name in _imports(path):
            library = name.split(".")[0]
            if library in OWN_LIBRARY and wing(module) != OWN_LIBRARY[library]:
                wrong.append(f"{module} imports {library}")
    assert wrong == []


def test_no_module_imports_itself_through_others():
    graph = {m: _imports(p) & MODULES.keys() for m, p in MODULES.items()}
    assert _circles(graph) == []


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_rules_see_a_circle_and_a_stage_importing_another():
    assert _circles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    assert wing("mlrig.components.train.io") == wing("mlrig.components.score.io") == "stage"
    assert _stage("mlrig.components.train.io") != _stage("mlrig.components.score.io")
    assert wing("mlrig.components.integrations.feast.feast_store") == "integrations.feast"


def test_no_function_over_60_lines_and_no_file_over_400():
    long = []
    for module, path in MODULES.items():
        text = path.read_text()
        if text.count("\n") > MAX_FILE_LINES:
            long.append(f"{module}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{module}.{node.name}: {lines} lines")
    assert long == []


def test_every_package_folder_is_installed():
    import tomllib

    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    packages = {m for m, p in MODULES.items() if p.name == "__init__.py"}
    assert packages == listed


def test_the_whole_config_stops_at_the_entries():
    """Below the CLI, the pipelines and the service, only the config wing and the entries of
    `mlrig features materialize|status` and `mlrig monitor` name LoadedConfig; a stage's io.py
    parses its JSON and hands the layers below a Place or the sections they read."""
    entries = {"mlrig.components.features.refresh", "mlrig.components.monitor.check"}
    seen = [
        module
        for module, path in MODULES.items()
        if module.startswith("mlrig.components.")
        and wing(module) != "config"
        and module not in entries
        and "LoadedConfig" in path.read_text()
    ]
    assert seen == []
