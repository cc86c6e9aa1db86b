"""The `mlrig` command line."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import typer
import yaml
from rich.console import Console
from rich.table import Table

from mlrig.components.config import env
from mlrig.components.config.loader import ConfigError, LoadedConfig, load
from mlrig.pipelines import images, kfp_ops, progress
from mlrig.pipelines.registry import PIPELINES

app = typer.Typer(help="mlrig: data in, a monitored prediction service out.", no_args_is_help=True)
config_app = typer.Typer(help="Inspect the effective config.")
app.add_typer(config_app, name="config")
features_app = typer.Typer(help="Feast helpers.")
image_app = typer.Typer(help="Container images.")
pipeline_app = typer.Typer(help="KFP: compile, submit to a cluster, list runs.")
app.add_typer(pipeline_app, name="pipeline")
app.add_typer(image_app, name="image")
app.add_typer(features_app, name="features")
console = Console()

ConfigOpt = typer.Option(None, "--config", "-c", help="config file (default: ./mlrig.yaml)")
ProfileOpt = typer.Option(None, "--profile", "-p", help="profile: local, kind, minikube")


def _load(config: Path | None, profile: str | None) -> LoadedConfig:
    try:
        return load(config, profile)
    except ConfigError as exc:
        console.print(f"[red]config error:[/] {exc}")
        raise typer.Exit(2) from None


@config_app.command("show")
def config_show(config: Path | None = ConfigOpt, profile: str | None = ProfileOpt) -> None:
    """Print the effective config (file + profile + MLRIG__* overrides)."""
    loaded = _load(config, profile)
    data = loaded.config.model_dump(mode="json", exclude={"profiles"})
    console.print(f"# root: {loaded.root}")
    console.print(yaml.safe_dump(data, sort_keys=False), highlight=False, markup=False)


@app.command()
def run(
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    sample: int | None = typer.Option(None, help="train on a random sample of N events"),
    runner: str = typer.Option("subprocess", help="kfp.local runner: subprocess or docker"),
) -> None:
    """Run the training pipeline locally (kfp.local): ingest → ... → register → materialize."""
    loaded = _load(config, profile)
    workdir = loaded.path(loaded.config.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    events_file = Path(tempfile.mkstemp(prefix="events-", suffix=".jsonl", dir=workdir)[1])
    log_file = workdir / "last-run.log"
    child_env = {**os.environ, env.EVENTS_FILE: str(events_file)}
    if sample:
        child_env["MLRIG__DATASET__SAMPLE_ROWS"] = str(sample)
    cmd = [sys.executable, "-m", "mlrig.pipelines.local_run", "--runner", runner]
    cmd += ["--config", str(config or env.get(env.CONFIG_PATH) or "mlrig.yaml")]
    cmd += ["--profile", loaded.config.profile]
    console.print(
        f"[bold]mlrig run[/] · profile {loaded.config.profile} · runner {runner} · log {log_file}"
    )
    with log_file.open("w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=child_env)
        state = progress.follow(proc, events_file, console)
    events_file.unlink(missing_ok=True)
    console.print(progress.summary_table(state))
    if proc.returncode != 0:
        console.print(
            f"[red]pipeline failed[/] (exit {proc.returncode}); last lines of {log_file}:"
        )
        console.print("\n".join(log_file.read_text().splitlines()[-25:]), markup=False)
        raise typer.Exit(1)
    ev = state.get("evaluate", {}).get("outputs", {})
    metric = f"holdout_{loaded.config.model.primary_metric}"
    reg = state.get("register", {}).get("outputs", {})
    console.print(
        f"[bold green]holdout {loaded.config.model.primary_metric}: {ev.get(metric)}[/] "
        f"(events after {_holdout_from(state)}) · model {reg.get('model')} v{reg.get('version')} "
        f"· champion v{reg.get('champion_version')}"
    )
    console.print(f"report: {ev.get('report')}")
    console.print("next: [bold]mlrig serve[/] · [bold]mlflow ui[/] (runs and the registered model)")


def _holdout_from(state: dict) -> str:
    return str(state.get("train", {}).get("outputs", {}).get("holdout_from", "the cutoff"))


@app.command()
def serve(
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    port: int | None = typer.Option(None, help="port (default: serving.port)"),
    host: str | None = typer.Option(None, help="bind address (default: serving.host)"),
) -> None:
    """Serve the champion model with BentoML (POST /predict, /metrics, /readyz)."""
    loaded = _load(config, profile)
    cfg_path = Path(config or env.get(env.CONFIG_PATH) or "mlrig.yaml").resolve()
    home = loaded.path(loaded.config.workdir) / f"bentoml_home-{port or loaded.config.serving.port}"
    child_env = {
        **os.environ,
        **env.QUIET_TELEMETRY,
        env.CONFIG_PATH: str(cfg_path),
        env.PROFILE: loaded.config.profile,
        "BENTOML_HOME": str(home),
    }
    cmd = [
        sys.executable, "-m", "bentoml", "serve", "mlrig.serving.service:PredictionService",
        "--host", host or loaded.config.serving.host,
        "--port", str(port or loaded.config.serving.port),
    ]  # fmt: skip
    console.print(f"[bold]serving[/] {' '.join(cmd[3:])}")
    raise typer.Exit(subprocess.call(cmd, env=child_env))


@features_app.command("env")
def features_env(config: Path | None = ConfigOpt, profile: str | None = ProfileOpt) -> None:
    """Print shell exports that fill feature_repo/feature_store.yaml for the feast CLI."""
    from mlrig.components.features.feast_store import feast_env

    for key, value in feast_env(_load(config, profile)).items():
        print(f"export {key}={shlex.quote(value)}")


@image_app.command("build")
def image_build(
    tag: str = typer.Option(images.DEFAULT_TAG, help="image tag"),
    base_image: str = typer.Option(
        images.DEFAULT_BASE, help="base image (tools/build-local-base.sh makes one offline)"
    ),
    extra_ca: list[Path] = typer.Option([], help="extra CA certificate to trust (repeatable)"),
    context: Path = typer.Option(Path("."), help="the mlrig source folder"),
) -> None:
    """Build the one mlrig image (pipeline components, serving, MLflow and Feast servers)."""
    with console.status(f"building {tag} from {base_image}") as status:
        try:
            images.build(
                context.resolve(),
                tag,
                base_image,
                extra_ca,
                on_line=lambda line: status.update(f"building {tag}: {line[:90]}"),
            )
        except images.ImageError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from None
    console.print(f"[green]built {tag}[/]")


@pipeline_app.command("compile")
def pipeline_compile(
    out: Path = typer.Option(Path("build/pipelines"), help="output folder"),
    name: list[str] = typer.Option(list(PIPELINES), help="pipeline(s) to compile"),
) -> None:
    """Compile the pipelines to KFP IR YAML (pipeline spec + Kubernetes platform spec)."""
    for pipeline in name:
        try:
            path = kfp_ops.compile_pipeline(pipeline, out)
        except kfp_ops.KfpError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from None
        console.print(f"compiled {pipeline} → {path}")


HostOpt = typer.Option(None, "--host", help="KFP API URL (default: $MLRIG_KFP_HOST)")


def _client(host: str | None, namespace: str | None = None) -> object:
    url = host or env.get(env.KFP_HOST)
    if not url:
        console.print("[red]no KFP endpoint:[/] pass --host URL or set MLRIG_KFP_HOST")
        raise typer.Exit(2)
    try:
        return kfp_ops.client(url, namespace)
    except kfp_ops.KfpError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


@pipeline_app.command("submit")
def pipeline_submit(
    host: str | None = HostOpt,
    name: str = typer.Option("training", help="pipeline to run"),
    config: Path | None = ConfigOpt,
    profile: str = typer.Option("cluster", "--profile", "-p", help="config profile for the run"),
    namespace: str | None = typer.Option(None, help="KFP namespace (multi-user installs)"),
    param: list[str] = typer.Option([], help="extra pipeline parameter name=value"),
    wait: bool = typer.Option(True, help="follow the run until it ends"),
) -> None:
    """Compile, submit to a KFP endpoint, and follow the run with progress."""
    loaded = _load(config, profile)
    kfp_client = _client(host, namespace)
    with tempfile.TemporaryDirectory() as tmp:
        package = kfp_ops.compile_pipeline(name, Path(tmp))
        params = dict(p.split("=", 1) for p in param)
        run_id = kfp_ops.submit(kfp_client, package, loaded, params)
    console.print(f"submitted {name}: run {run_id}")
    if not wait:
        return
    with console.status("waiting for the run") as status:
        state = kfp_ops.follow(kfp_client, run_id, lambda s: status.update(f"run {run_id}: {s}"))
    colour = "green" if state == "SUCCEEDED" else "red"
    console.print(f"[{colour}]run {run_id}: {state}[/]")
    if state != "SUCCEEDED":
        raise typer.Exit(1)


@pipeline_app.command("runs")
def pipeline_runs(
    host: str | None = HostOpt,
    limit: int = typer.Option(20, help="how many runs"),
    namespace: str | None = typer.Option(None, help="KFP namespace (multi-user installs)"),
) -> None:
    """List the newest runs on a KFP endpoint."""
    table = Table(title="KFP runs")
    for column in ("id", "name", "state", "created"):
        table.add_column(column)
    for run in kfp_ops.list_runs(_client(host, namespace), limit):
        table.add_row(*(str(run[c]) for c in ("id", "name", "state", "created")))
    console.print(table)


@app.command()
def version() -> None:
    """Print versions of mlrig and its stack."""
    from importlib.metadata import version as v

    names = ["mlrig", "kfp", "feast", "mlflow", "bentoml", "pandas", "scikit-learn"]
    console.print(json.dumps({n: v(n) for n in names}, indent=2))


if __name__ == "__main__":
    app()
