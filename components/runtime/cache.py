"""Stage outputs reused when nothing they depend on changed.

A stage's entry is named by a SHA-256 of its name, mlrig's own code, the versions of the libraries
that shape outputs and the content of its input folders (a manifest's ingestion time left out: the
same data ingested twice is the same data), and one of the config sections the stage read when it
ran, recorded as it read them (config/reads.py), never listed by hand. So a change re-runs only the
stages that read it: a model setting re-runs train and evaluate, not validate, features or eda.
After a stage runs, its output folders, its return value and the sections it read are kept under
<workdir>/cache/<stage>/<inputs key>-<sections key>/; a later run whose inputs are the same and
whose config holds the same in those sections copies them back instead of running the stage, and
says so in its events ("cached"). `mlrig run --no-cache` (MLRIG_NO_CACHE=1) runs
everything. Sources and registries are outside: ingest always reads its sources, and register
never registers a model whose run is already registered (register/io.py).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from mlrig.components.config import env, reads
from mlrig.components.config.loader import from_json
from mlrig.components.runtime import events, process

KEEP = 3  # entries kept per stage, newest first: a few configs to switch between, bounded disk
RESULT = "result.json"
REPORT = "events.json"  # what the stage reported as it finished (shown by `mlrig run`)
VOLATILE = ("ingested_at",)  # manifest keys that change when nothing else does
_CODE: list[str] = []


def code_digest() -> str:
    """SHA-256 over mlrig's Python sources (a code change re-runs every cached stage)."""
    if not _CODE:
        root = Path(__file__).resolve().parents[2]
        total = hashlib.sha256()
        for folder in ("components", "pipelines", "serving", "mlrig"):
            for path in sorted((root / folder).rglob("*.py")):
                total.update(path.relative_to(root).as_posix().encode())
                total.update(path.read_bytes())
        _CODE.append(total.hexdigest())
    return _CODE[0]


# the libraries whose versions shape a stage's outputs (a training set's types, a model's fit)
SHAPING = (
    "numpy",
    "pandas",
    "pyarrow",
    "duckdb",
    "feast",
    "scikit-learn",
    "lightgbm",
    "mlflow",
    "skops",
    "optuna",
    "scipy",
)
_LIBS: list[str] = []


def library_digest() -> str:
    """The installed versions of the libraries that shape outputs: an upgrade re-runs stages."""
    if not _LIBS:
        from importlib.metadata import PackageNotFoundError, version

        found = []
        for name in SHAPING:
            try:
                found.append(f"{name}=={version(name)}")
            except PackageNotFoundError:
                found.append(f"{name} absent")
        _LIBS.append(hashlib.sha256("\n".join(found).encode()).hexdigest())
    return _LIBS[0]


def folder_digest(folder: Path) -> str:
    """SHA-256 over a folder's files (path and content), manifests without volatile keys."""
    total = hashlib.sha256()
    files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
    for path in files:
        data = path.read_bytes()
        if path.name == "manifest.json":
            manifest = json.loads(data)
            data = json.dumps(
                {k: v for k, v in manifest.items() if k not in VOLATILE}, sort_keys=True
            ).encode()
        name = path.relative_to(folder).as_posix() if path != folder else path.name
        total.update(f"{name}\0{hashlib.sha256(data).hexdigest()}\n".encode())
    return total.hexdigest()


def _copy(source: Path, dest: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, dest, dirs_exist_ok=True)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)


READS = "reads.json"  # the config sections the stage read when it ran


def config_part(config_json: str, sections: Iterable[str]) -> str:
    """Config sections as canonical JSON."""
    return _sections(from_json(config_json).config, sections)


def _sections(cfg: Any, sections: Iterable[str]) -> str:
    with reads.paused():  # the cache's own look is not the stage's
        return json.dumps(cfg.model_dump(mode="json", include=set(sections)), sort_keys=True)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _prune(folder: Path) -> None:
    """Keep the KEEP newest entries of a stage (a hit refreshes an entry's time)."""
    entries = sorted(
        (p for p in folder.iterdir() if not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in entries[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


def _find(folder: Path, base: str, cfg: Any) -> Path | None:
    """The entry of these inputs whose recorded sections hold what the config holds now."""
    if not folder.is_dir():
        return None
    for entry in folder.glob(f"{base}-*"):
        try:
            sections = json.loads((entry / READS).read_text())
        except (OSError, ValueError):  # an entry from before reads were kept, or damaged
            continue
        same = entry.name == f"{base}-{_digest(_sections(cfg, sections))}"
        if same and (entry / RESULT).exists():
            return entry
    return None


def stage(
    name: str,
    inputs: tuple[str, ...],
    outputs: tuple[str, ...],
    still_valid: Callable[[str, dict], bool] | None = None,
) -> Callable:
    """Decorate a stage's run(config_json, ...) whose `inputs` and `outputs` arguments are paths.
    still_valid(config_json, cached result): False when something outside the cache that the
    result refers to is gone (an MLflow run), so the stage runs again."""

    def wrap(run: Callable[..., dict]) -> Callable[..., dict]:
        signature = inspect.signature(run)
        process.exit_without_collecting()  # a stage's process ends as soon as it is done

        @functools.wraps(run)
        def cached(*args: Any, **kwargs: Any) -> dict:
            bound = signature.bind(*args, **kwargs).arguments
            config_json = bound["config_json"]
            if env.get(env.NO_CACHE):
                return run(*args, **kwargs)
            loaded = from_json(config_json)  # parsed once: the key and the cache folder
            folder = loaded.path(loaded.config.workdir) / "cache" / name
            digests = (folder_digest(Path(bound[i])) for i in inputs)
            base = _digest(name, code_digest(), library_digest(), *digests)
            entry = _find(folder, base, loaded.config)
            if entry is not None and still_valid is not None:
                entry = entry if still_valid(config_json, _result(entry)) else None
            if entry is not None:
                return _reuse(name, entry, outputs, bound)
            with reads.recorded() as seen:
                result = run(*args, **kwargs)
            sections = sorted(seen)
            key = f"{base}-{_digest(_sections(loaded.config, sections))}"
            _store(name, folder / key, outputs, bound, result, sections)
            return result

        return cached

    return wrap


def _result(entry: Path) -> dict:
    return json.loads((entry / RESULT).read_text())


def _reuse(name: str, entry: Path, outputs: tuple[str, ...], bound: dict) -> dict:
    """Copy a cached entry's outputs back and report the stage as cached."""
    with events.stage(name) as out:
        for arg in outputs:
            if (entry / arg).exists():
                _copy(entry / arg, Path(bound[arg]))
        result = _result(entry)
        if (entry / REPORT).exists():
            out.update(json.loads((entry / REPORT).read_text()))
        out["cached"] = entry.name[:12]
    entry.touch()  # recently used: kept by _prune
    return result


def _store(
    name: str, entry: Path, outputs: tuple[str, ...], bound: dict, result: dict, sections: list
) -> None:
    """Keep a stage's outputs, result, report and the sections it read, atomically."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.name[:12]}-", dir=entry.parent))
    for arg in outputs:
        if Path(bound[arg]).exists():
            _copy(Path(bound[arg]), staging / arg)
    (staging / RESULT).write_text(json.dumps(result, default=str))
    (staging / REPORT).write_text(json.dumps(events.REPORTED.get(name, {}), default=str))
    (staging / READS).write_text(json.dumps(sections))
    shutil.rmtree(entry, ignore_errors=True)  # one that was no longer valid
    try:
        staging.rename(entry)  # atomic: a killed run never leaves half an entry
    except OSError:  # another run stored the same key first
        shutil.rmtree(staging, ignore_errors=True)
    _prune(entry.parent)
