"""Load mlrig.yaml: base config, then the profile, then MLRIG__* environment overrides."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mlrig.components.config import env, reads
from mlrig.components.config.checks import check, fill_defaults
from mlrig.components.config.place import Place, resolve
from mlrig.components.config.schema import Config


class ConfigError(ValueError):
    """A config that cannot be used; the message names the key and the problem."""


class LoadedConfig:
    """A validated config plus the folder its relative paths are resolved against."""

    def __init__(self, config: Config, root: Path) -> None:
        self.config = config
        self.root = root.resolve()

    def path(self, value: str) -> Path:
        """Resolve a config path (relative to the config file's folder)."""
        return resolve(self.root, value)

    @property
    def workdir(self) -> Path:
        """The work folder (pipeline root, cache, logs), resolved."""
        return self.path(self.config.workdir)

    @property
    def place(self) -> Place:
        """The stores and the config's folder: what the MLflow and Feast adapters are given."""
        return Place(self.config.stores, self.root, self.path(self.config.workdir))

    def to_json(self) -> str:
        """Serialise for handing to pipeline components. ${VAR} references stay unexpanded: the
        process that needs a secret resolves it (env.resolve), so no value reaches KFP."""
        return json.dumps({"root": str(self.root), "config": self.config.model_dump(mode="json")})


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _set_dotted(data: dict[str, Any], dotted: str, raw: str) -> None:
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{dotted}: cannot override inside a non-mapping value")
    node[keys[-1]] = yaml.safe_load(raw)


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-after"))
        lines.append(f"{loc or '<root>'}: {err['msg']}")
    return "invalid config:\n  " + "\n  ".join(lines)


def build(data: dict[str, Any], root: Path, profile: str | None = None) -> LoadedConfig:
    """Validate raw config data with a profile and environment overrides applied."""
    if not isinstance(data, dict):
        raise ConfigError("the config file must hold a mapping at its top level")
    profile = profile or env.get(env.PROFILE) or data.get("profile") or "local"
    profiles = data.get("profiles") or {}
    if profile != "local" and profile not in profiles:
        raise ConfigError(
            f"profile: unknown profile '{profile}' (have: local, {', '.join(profiles)})"
        )
    merged = _deep_merge(data, profiles.get(profile, {}))
    merged["profile"] = profile
    for dotted, raw in env.overrides().items():
        _set_dotted(merged, dotted, raw)
    return _checked(merged, root)


def _checked(data: dict[str, Any], root: Path) -> LoadedConfig:
    """Typed, then its cross-field defaults filled and its rules checked (once, at load)."""
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None
    try:
        with reads.paused():  # the checks look at every section; no stage reads them
            fill_defaults(cfg)
            check(cfg)
    except ValueError as exc:
        raise ConfigError(f"invalid config:\n  {exc}") from None
    return LoadedConfig(cfg, root)


def default_path() -> Path:
    return Path(env.get(env.CONFIG_PATH) or "mlrig.yaml")


def load(path: str | os.PathLike[str] | None = None, profile: str | None = None) -> LoadedConfig:
    """Load and validate a config file; raise ConfigError naming the bad key."""
    file = Path(path) if path else default_path()
    if not file.exists():
        raise ConfigError(f"config file not found: {file} (set {env.CONFIG_PATH} or pass --config)")
    try:
        data = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from None
    return build(data, file.parent.resolve(), profile)


def in_key_order(value: Any) -> Any:
    """value with every mapping's keys sorted, at any depth. A pipeline task's sections reach it
    through KFP's protobuf Struct, whose maps keep no order: the same config arrived as
    `candidates: {ridge, lightgbm}` in one process and `{lightgbm, ridge}` in the next, and the
    seeded search drew different trials. Stages read user-keyed mappings (candidates, tables,
    columns) in one order on every path."""
    if isinstance(value, dict):
        return {key: in_key_order(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [in_key_order(item) for item in value]
    return value


def from_json(text: str, changed: bool = False) -> LoadedConfig:
    """Inverse of LoadedConfig.to_json, used inside pipeline components: the config was checked
    at load, so it is only typed again. changed: the JSON was edited since, check it again.
    Every mapping is read in key order (in_key_order), whichever way the JSON came."""
    payload = json.loads(text)
    payload["config"] = in_key_order(payload["config"])
    if changed:
        return _checked(payload["config"], Path(payload["root"]))
    if "absent" in payload:  # a pipeline task's sections only (slices.py)
        from mlrig.components.config.slices import sliced_config

        config = sliced_config(payload["config"], payload["absent"])
        return LoadedConfig(config, Path(payload["root"]))
    return LoadedConfig(Config.model_validate(payload["config"]), Path(payload["root"]))
