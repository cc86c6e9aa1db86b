"""mlrig commands for containers and clusters: image build, KFP compile/submit/runs,
cluster up/down/status and deploy."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from mlrig.cli.common import ConfigOpt, console, load_or_exit
from mlrig.cluster import cluster_ops, images, kfp_ops
from mlrig.components.config import env

image_app = typer.Typer(help="Container images.")
pipeline_app = typer.Typer(help="KFP: compile, submit to a cluster, list runs.")
cluster_app = typer.Typer(help="A local kind or minikube cluster running the mlrig stack.")


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
    name: list[str] = typer.Option(list(kfp_ops.PIPELINE_NAMES), help="pipeline(s) to compile"),
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


def _param_value(text: str) -> Any:
    """A pipeline parameter from the command line: a JSON list or object as such (scoring-parts'
    input_parts=["/data/in/p0.parquet", ...]), anything else as text."""
    if text.lstrip().startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            console.print(f"[red]--param: {text[:60]} is not JSON: {exc}[/]")
            raise typer.Exit(2) from None
    return text


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
    loaded = load_or_exit(config, profile)
    kfp_client = _client(host, namespace)
    with tempfile.TemporaryDirectory() as tmp:
        package = kfp_ops.compile_pipeline(name, Path(tmp))
        params = {k: _param_value(v) for k, v in (p.split("=", 1) for p in param)}
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


def _provider(kind: bool, minikube: bool) -> str:
    if kind and minikube:
        console.print("[red]choose one of --kind and --minikube[/]")
        raise typer.Exit(2)
    return "minikube" if minikube else "kind"


KindOpt = typer.Option(False, "--kind", help="use kind (the default)")
MinikubeOpt = typer.Option(False, "--minikube", help="use minikube")


@cluster_app.command("up")
def cluster_up(
    kind: bool = KindOpt,
    minikube: bool = MinikubeOpt,
    config: Path = typer.Option(Path("mlrig.yaml"), "--config", "-c", help="project config"),
    base_image: str = typer.Option(images.DEFAULT_BASE, help="base of the mlrig image"),
    dry_run: bool = typer.Option(False, help="print the steps, run nothing"),
) -> None:
    """Create the cluster, build and load the image, apply the overlay, wait for the rollouts."""
    provider = _provider(kind, minikube)
    repo = Path(__file__).resolve().parents[2]
    if repo == Path.cwd().resolve():
        repo = Path(".")  # show the steps as a user in the project folder would type them
    steps = cluster_ops.up_steps(provider, repo, config, base_image)
    if dry_run:
        for number, step in enumerate(steps, 1):
            console.print(f"{number}. {step.title}: {step.shown()}", markup=False, soft_wrap=True)
        return
    _run_steps(provider, steps)
    console.print(
        "[green]cluster ready.[/] Next: kubectl -n mlrig port-forward svc/mlflow 5000, "
        "mlrig pipeline submit --host URL, then mlrig deploy"
    )


def _run_steps(provider: str, steps: list[cluster_ops.Step]) -> None:
    try:
        cluster_ops.check_tools(provider)
        with console.status("starting") as status:
            for number, step in enumerate(steps, 1):
                status.update(f"[{number}/{len(steps)}] {step.title}")
                outcome = cluster_ops.run_step(step)
                console.print(f"[{number}/{len(steps)}] {step.title}: {outcome}")
    except cluster_ops.ClusterError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


@cluster_app.command("down")
def cluster_down(kind: bool = KindOpt, minikube: bool = MinikubeOpt) -> None:
    """Delete the cluster."""
    provider = _provider(kind, minikube)
    _run_steps(provider, cluster_ops.down_steps(provider))


def _champion_version(loaded: object) -> int:
    from mlrig.components.integrations.mlflow import tracking
    from mlrig.components.integrations.mlflow.registry import NoVersion, resolve
    from mlrig.components.runtime.catalog import CHAMPION

    try:
        mlflow = tracking.configure(loaded.place)  # type: ignore[arg-type]
        return resolve(mlflow, loaded.config.model.name, CHAMPION)  # type: ignore[attr-defined]
    except NoVersion as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


@cluster_app.command("status")
def cluster_status() -> None:
    """Ready replicas of every mlrig workload in the current kubectl context."""
    from mlrig.cluster import k8s

    try:
        _, apps = k8s.api_clients()
        rows = k8s.status(apps)
    except cluster_ops.ClusterError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    table = Table(title=f"namespace {cluster_ops.NAMESPACE}")
    for column in ("workload", "ready"):
        table.add_column(column)
    for row in rows:
        colour = "green" if row["ready"] == row["desired"] else "yellow"
        table.add_row(row["name"], f"[{colour}]{row['ready']}/{row['desired']}[/]")
    console.print(table)


def deploy(
    model_version: str = typer.Option(
        "champion", help="a version number, or 'champion' to resolve the alias now"
    ),
    config: Path | None = ConfigOpt,
    profile: str = typer.Option(
        "local",
        "--profile",
        "-p",
        help="profile whose MLflow resolves 'champion' (local: a "
        "port-forward of svc/mlflow to the tracking URI)",
    ),
    timeout: float = typer.Option(600, help="seconds to wait for the new pods"),
) -> None:
    """Pin the serving Deployment to a model version; roll back to the previous one if the new
    pods do not get ready."""
    from mlrig.cluster import k8s

    if model_version == "champion":
        model_version = str(_champion_version(load_or_exit(config, profile)))
    try:
        _, apps = k8s.api_clients()
        with console.status("rolling out mlrig-serving") as status:
            outcome = k8s.deploy(apps, model_version, lambda s: status.update(s), timeout)
    except cluster_ops.ClusterError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"[green]mlrig-serving {outcome} on {model_version}[/]")
