"""`mlrig config show` and `mlrig run`: the training pipeline run locally with its progress."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import typer
import yaml
from rich.markup import escape

from mlrig.cli import progress, rerun
from mlrig.cli.common import ConfigOpt, ProfileOpt, console, load_or_exit
from mlrig.components.config import env
from mlrig.components.config.loader import LoadedConfig
from mlrig.components.runtime import process

config_app = typer.Typer(help="Inspect the effective config.")


@config_app.command("show")
def config_show(config: Path | None = ConfigOpt, profile: str | None = ProfileOpt) -> None:
    """Print the effective config (file + profile + MLRIG__* overrides)."""
    loaded = load_or_exit(config, profile)
    data = loaded.config.model_dump(mode="json", exclude={"profiles"})
    console.print(f"# root: {loaded.root}")
    shown = env.mask(yaml.safe_dump(data, sort_keys=False))  # ${VAR} stay references
    console.print(shown, highlight=False, markup=False)


def run_pipeline(
    loaded: LoadedConfig,
    config: Path | None,
    pipeline: str,
    runner: str,
    stages: list[str],
    extra_env: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> dict[str, dict]:
    """Run a pipeline with kfp.local in a child process, showing its stages; exit 1 on failure."""
    workdir = loaded.path(loaded.config.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    events_file = Path(tempfile.mkstemp(prefix="events-", suffix=".jsonl", dir=workdir)[1])
    log_file = workdir / "last-run.log"
    child_env = {**os.environ, env.EVENTS_FILE: str(events_file), **(extra_env or {})}
    cmd = [sys.executable, "-m", "mlrig.pipelines.local_run", "--runner", runner]
    cmd += ["--config", str(config or env.get(env.CONFIG_PATH) or "mlrig.yaml")]
    cmd += ["--profile", loaded.config.profile, "--pipeline", pipeline]
    cmd += [f"--param={k}={v}" for k, v in (params or {}).items()]
    console.print(
        f"[bold]mlrig {pipeline}[/] · profile {loaded.config.profile} · runner {runner} · "
        f"log {log_file}"
    )
    try:
        with process.project_lock(workdir), log_file.open("w") as log:
            proc = process.start(cmd, stdout=log, stderr=subprocess.STDOUT, env=child_env)
            try:
                state = progress.follow(proc, events_file, console, stages)
            finally:  # Ctrl-C or an error here: the whole pipeline stops with us
                if proc.poll() is None:
                    process.stop_group(proc)
    except process.Busy as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    finally:
        events_file.unlink(missing_ok=True)
    console.print(progress.summary_table(state, stages, pipeline))
    if proc.returncode != 0:
        failed = [(n, s) for n, s in state.items() if s.get("status") == "failed"]
        if failed:
            name, rec = failed[-1]
            console.print(
                f"[red]pipeline failed at stage {name}:[/] {escape(str(rec.get('error')))}",
                highlight=False,
            )
        else:
            lines = [ln for ln in log_file.read_text().splitlines() if ln.strip()]
            last = escape(lines[-1]) if lines else "no output"
            console.print(
                f"[red]pipeline failed[/] (exit {proc.returncode}): {last}", highlight=False
            )
        console.print(f"the orchestrator's full log: {log_file}")
        raise typer.Exit(1)
    return state


def run(
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    sample: int | None = typer.Option(None, help="train on a random sample of N events"),
    runner: str = typer.Option("subprocess", help="kfp.local runner: subprocess or docker"),
    no_cache: bool = typer.Option(False, "--no-cache", help="run every stage, reuse nothing"),
) -> None:
    """Run the training pipeline locally (kfp.local): ingest → ... → register → materialize.
    Stages whose inputs, config and code are unchanged reuse their last outputs."""
    run_training(load_or_exit(config, profile), config, sample, runner, no_cache=no_cache)


def run_training(
    loaded: LoadedConfig,
    config: Path | None,
    sample: int | None = None,
    runner: str = "subprocess",
    until: str | None = None,
    no_cache: bool = False,
) -> dict:
    """The training pipeline with progress and the run summary (`mlrig run`, a triggered
    `mlrig monitor check --retrain`, a replay); returns what the register stage reported."""
    extra = {"MLRIG__DATASET__SAMPLE_ROWS": str(sample)} if sample else {}
    if no_cache:
        extra[env.NO_CACHE] = "1"
    if until:
        extra["MLRIG__DATASET__UNTIL"] = until
    run_key = None if no_cache or env.get(env.NO_CACHE) else rerun.key(loaded, extra)
    state = rerun.recalled(loaded, run_key)
    if state is None:
        state = run_pipeline(loaded, config, "training", runner, progress.STAGES, extra)
        rerun.keep(loaded, run_key, extra, state)
    ev = state.get("evaluate", {}).get("outputs", {})
    name = loaded.config.model.primary_metric
    reg = state.get("register", {}).get("outputs", {})
    console.print(
        f"[bold green]holdout {name}: {ev.get(f'holdout_{name}')}[/] ({ev.get('holdout')}) · "
        f"[bold]CV {name}: {ev.get(f'cv_{name}')}[/] ({ev.get('cv')})"
    )
    best = state.get("train", {}).get("outputs", {}).get("best")
    if f"baseline_{name}" in ev:
        console.print(
            f"baseline (LightGBM, default parameters, same holdout): {name} "
            f"{ev[f'baseline_{name}']} · chosen ({best}): "
            f"{ev.get(f'holdout_{name}')}"
        )
    if ev.get("warning"):
        console.print(f"[yellow]warning: {ev['warning']}[/]")
    console.print(
        f"model {reg.get('model')} v{reg.get('version')} · champion v{reg.get('champion_version')}"
        f" · gate: {reg.get('reason')}"
    )
    console.print(f"report: {ev.get('report')}")
    console.print("next: [bold]mlrig serve[/] · [bold]mlflow ui[/] (runs and the registered model)")
    return reg
