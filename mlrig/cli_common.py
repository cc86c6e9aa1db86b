"""What every mlrig command shares: the console, config options, loading with clean errors."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from mlrig.components.config.loader import ConfigError, LoadedConfig, load

console = Console()
ConfigOpt = typer.Option(None, "--config", "-c", help="config file (default: ./mlrig.yaml)")
ProfileOpt = typer.Option(None, "--profile", "-p", help="profile: local, cluster, kind, minikube")


def load_or_exit(config: Path | None, profile: str | None) -> LoadedConfig:
    """Load the config; on a bad one print the key and the problem and exit 2 (no traceback)."""
    try:
        return load(config, profile)
    except ConfigError as exc:
        console.print(f"[red]config error:[/] {exc}")
        raise typer.Exit(2) from None
