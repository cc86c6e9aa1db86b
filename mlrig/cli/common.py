"""What every mlrig command shares: the console, config options, loading with clean errors."""

from __future__ import annotations

import socket
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


def port_free_or_exit(host: str, port: int) -> None:
    """One line, not a traceback, when the port is taken."""
    try:
        with socket.socket() as probe:
            probe.bind((host, port))
    except OSError as exc:
        console.print(f"[red]cannot serve on {host}:{port}:[/] {exc.strerror}")
        raise typer.Exit(1) from None
