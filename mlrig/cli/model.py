"""`mlrig model list | promote | shadow | export | history`: the model registry as a user tool."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import typer
from rich.table import Table

from mlrig.cli.common import ConfigOpt, ProfileOpt, console, load_or_exit

model_app = typer.Typer(help="The model registry: versions, promotion by hand, alias history.")


def _client(config: Path | None, profile: str | None) -> tuple:
    from mlrig.components.integrations.mlflow import tracking

    loaded = load_or_exit(config, profile)
    mlflow = tracking.configure(loaded.place)
    return loaded, mlflow, mlflow.MlflowClient()


@model_app.command("list")
def model_list(
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    as_json: bool = typer.Option(False, "--json", help="print JSON lines"),
) -> None:
    """Versions with aliases, headline metrics, data version and the gate's reason."""
    loaded, _, client = _client(config, profile)
    name, metric = loaded.config.model.name, loaded.config.model.primary_metric
    versions = client.search_model_versions(f"name='{name}'")
    aliases: dict[str, list[str]] = {}
    for alias, ver in (client.get_registered_model(name).aliases or {}).items():
        aliases.setdefault(str(ver), []).append(alias)
    rows = []
    for v in sorted(versions, key=lambda v: int(v.version)):
        run = client.get_run(v.run_id)
        m, p, t = run.data.metrics, run.data.params, run.data.tags
        cv = m.get(f"cv_{metric}_mean")
        sample = " (sample)" if t.get("mlrig.sampled") == "true" else ""
        rows.append(
            {
                "version": str(v.version),
                "aliases": ", ".join(sorted(aliases.get(str(v.version), []))),
                "candidate": p.get("candidate", ""),
                f"holdout {metric}": _num(m.get(f"holdout_{metric}")),
                f"CV {metric}": f"{_num(cv)} ± {_num(m.get(f'cv_{metric}_std'))}" if cv else "",
                "data": t.get("mlrig.dataset_hash", "")[:10] + sample,
                "feature set": t.get("mlrig.feature_set", ""),
                "gate": (v.tags or {}).get("mlrig.gate", ""),
            }
        )
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    table = Table(title=f"model {name}")
    for col in rows[0] if rows else ["version"]:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*row.values())
    console.print(table)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


@model_app.command("promote")
def model_promote(
    version: int = typer.Argument(..., help="the version to make champion"),
    reason: str = typer.Option(..., "--reason", help="why (kept in the history)"),
    force: bool = typer.Option(False, help="skip the gate's checks"),
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
) -> None:
    """Make a version champion by hand: the gate's checks apply unless --force; its feature set
    becomes live in the online store; the history records who and why."""
    from mlrig.components.contract.metrics import better
    from mlrig.components.integrations.feast import feast_store
    from mlrig.components.integrations.mlflow import history
    from mlrig.components.integrations.mlflow.registry import NoVersion, load_version, resolve
    from mlrig.components.runtime.catalog import CHAMPION

    loaded, mlflow, client = _client(config, profile)
    cfg = loaded.config
    name, metric = cfg.model.name, cfg.model.primary_metric or ""
    try:
        pinned = load_version(mlflow, name, version)
    except (NoVersion, mlflow.exceptions.MlflowException) as exc:
        console.print(f"[red]version {version}: {exc}[/]")
        raise typer.Exit(1) from None
    try:
        current: int | None = resolve(mlflow, name, CHAMPION)
    except NoVersion:
        current = None
    run = client.get_run(pinned.run_id)
    value = run.data.metrics.get(f"holdout_{metric}")
    problems = []
    if current == version:
        problems.append(f"v{version} is already the champion")
    if run.data.tags.get("mlrig.sampled") == "true":
        problems.append("it was trained on a sample (--sample)")
    floor = cfg.model.gate.min_metric
    if floor is not None and value is not None and better(metric, value, floor) < 0:
        problems.append(f"holdout {metric} {value:.4f} misses the minimum {floor}")
    if problems and not force:
        console.print(f"[red]not promoted:[/] {'; '.join(problems)} (--force to override)")
        raise typer.Exit(1)
    with console.status(f"making v{version}'s features live"):
        if pinned.contract.features and pinned.contract.features.views:
            feast_store.materialize(loaded.place, loaded.config.features, pinned.contract.features)
    client.set_registered_model_alias(name, CHAMPION, str(version))
    who = getpass.getuser()
    history.record(
        client,
        name,
        alias=CHAMPION,
        from_version=current,
        to_version=version,
        by=f"{who} (mlrig model promote{' --force' if force else ''})",
        reason=reason,
        numbers={"metric": metric, "holdout": value, "overridden": problems},
    )
    console.print(f"[green]v{version} is champion[/] (was {f'v{current}' if current else 'none'})")


@model_app.command("shadow")
def model_shadow(
    version: int | None = typer.Argument(None, help="the version to score served requests too"),
    off: bool = typer.Option(False, "--off", help="stop shadowing"),
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
) -> None:
    """Make VERSION a shadow: running services score every request with it too, off the
    response path (the answer stays the champion's), and log its answers beside the served
    ones; `mlrig monitor compare VERSION --from-log` reads them. --off stops it."""
    from mlrig.components.integrations.mlflow.registry import NoVersion, load_version, resolve
    from mlrig.components.runtime.catalog import CHAMPION, SHADOW

    if off == (version is not None):
        console.print("[red]give a VERSION to shadow, or --off[/]")
        raise typer.Exit(2)
    loaded, mlflow, client = _client(config, profile)
    name = loaded.config.model.name
    if off:
        try:
            was = resolve(mlflow, name, SHADOW)
        except NoVersion:
            console.print("no version shadows the champion")
            return
        client.delete_registered_model_alias(name, SHADOW)
        console.print(f"v{was} no longer shadows the champion")
        return
    try:
        pinned = load_version(mlflow, name, version)
        champion = resolve(mlflow, name, CHAMPION)
    except (NoVersion, mlflow.exceptions.MlflowException) as exc:
        console.print(f"[red]version {version}: {exc}[/]")
        raise typer.Exit(1) from None
    if champion == version:
        console.print(f"[red]v{version} is the champion: a shadow is another version[/]")
        raise typer.Exit(1)
    client.set_registered_model_alias(name, SHADOW, str(version))
    fixed = loaded.config.serving.shadow
    note = f" (serving.shadow pins v{fixed}, which wins)" if fixed else ""
    console.print(
        f"[green]v{version} shadows the champion v{champion}[/]{note}: services pick it up "
        f"within serving.reload_seconds; compare with `mlrig monitor compare {version} "
        "--from-log`",
        highlight=False,
    )
    ours = pinned.contract.features
    theirs = load_version(mlflow, name, champion).contract.features
    if ours and theirs and ours.version != theirs.version:
        console.print(
            f"[yellow]v{version} reads feature set {ours.version}, the online store holds "
            f"{theirs.version}: its stored features are as last materialized for its set[/]",
            highlight=False,
        )


@model_app.command("export")
def model_export(
    version: int = typer.Argument(..., help="the version to export"),
    fmt: str = typer.Option("onnx", "--format", help="onnx (the one format so far)"),
    out: Path = typer.Option(Path("export"), "--out", help="the folder to write"),
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
) -> None:
    """Write VERSION as one ONNX model (model.onnx) beside its contract (contract.json),
    runnable with onnxruntime alone; checked first against the pipeline on the version's own
    holdout rows (the largest difference is printed), and refused, naming the step, when a part
    cannot be converted or the scores differ."""
    from mlrig.components.integrations.mlflow.registry import NoVersion, load_version
    from mlrig.components.integrations.mlflow.samples import check_rows

    if fmt != "onnx":
        console.print(f"[red]--format: '{fmt}' is not a format mlrig exports (onnx)[/]")
        raise typer.Exit(2)
    try:
        from mlrig.components.contract.to_onnx.export import ExportRefused, export_onnx
    except ImportError as exc:
        console.print(f'[red]--format onnx needs {exc.name}: pip install "mlrig[onnx]"[/]')
        raise typer.Exit(1) from None
    loaded, mlflow, _ = _client(config, profile)
    try:
        pinned = load_version(mlflow, loaded.config.model.name, version)
        rows, what = check_rows(mlflow, pinned.run_id)
        done = export_onnx(pinned.model, pinned.contract, rows, out)
    except (NoVersion, LookupError, mlflow.exceptions.MlflowException) as exc:
        console.print(f"[red]version {version}: {exc}[/]", highlight=False)
        raise typer.Exit(1) from None
    except ExportRefused as exc:
        console.print(f"[red]v{version} not exported: {exc}[/]", highlight=False)
        raise typer.Exit(1) from None
    console.print(
        f"[green]v{version} exported[/] to {out}/model.onnx with {out}/contract.json: on "
        f"{done.rows} {what} its scores are the pipeline's to {done.largest_difference:.2g} "
        f"(largest difference; tolerance {done.tolerance:.2g})",
        highlight=False,
    )


@model_app.command("history")
def model_history(
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    as_json: bool = typer.Option(False, "--json", help="print JSON lines"),
) -> None:
    """Every champion decision: when, from which version to which, by whom, why, the numbers."""
    from mlrig.components.integrations.mlflow import history

    loaded, _, client = _client(config, profile)
    entries = history.read(client, loaded.config.model.name)
    if as_json:
        for entry in entries:
            print(json.dumps(entry))
        return
    table = Table(title=f"champion history of {loaded.config.model.name}")
    for col in ("when", "from", "to", "moved", "by", "reason", "numbers"):
        table.add_column(col, overflow="fold")
    for e in entries:
        numbers = ", ".join(
            f"{k}={_num(v) if isinstance(v, float) else v}" for k, v in e["numbers"].items()
        )
        table.add_row(
            e["when"],
            str(e["from"] or ""),
            str(e["to"] or ""),
            "yes" if e["moved"] else "no",
            e["by"],
            e["reason"],
            numbers,
        )
    console.print(table)
