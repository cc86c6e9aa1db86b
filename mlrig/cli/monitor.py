"""`mlrig monitor drift | check | prune | labels | replay`: the champion's served predictions
against its training data, and the prediction log's upkeep."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from mlrig.cli.common import ConfigOpt, ProfileOpt, console, load_or_exit
from mlrig.components.config.loader import LoadedConfig

monitor_app = typer.Typer(help="Monitoring: drift of served predictions, labels that arrive later.")


@contextmanager
def log_errors() -> Iterator[None]:
    """A prediction log that cannot be reached: its location and the reason, exit 2."""
    from mlrig.components.monitor.predlog import LogUnavailable

    try:
        yield
    except LogUnavailable as exc:
        console.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from None


@monitor_app.command("drift")
def monitor_drift(
    since: str | None = typer.Option(None, help="only predictions logged at or after (ISO time)"),
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
) -> None:
    """Per-feature and prediction drift of the champion; HTML report + JSON, logged to MLflow."""
    from mlrig.components.monitor.check import NothingToCheck, drift_check

    loaded = load_or_exit(config, profile)
    try:
        with (
            console.status("comparing served predictions with the training reference"),
            log_errors(),
        ):
            result = drift_check(loaded, since)
    except NothingToCheck as exc:
        console.print(f"[yellow]{exc}[/]")
        raise typer.Exit(1) from None
    drifted = ", ".join(result["drifted"]) or "none"
    console.print(
        f"v{result['version']}: the latest {result['current_rows']} of "
        f"{result['logged_rows']} served rows against "
        f"{result['reference_rows']} reference rows; drifted: [bold]{drifted}[/]; "
        f"prediction PSI {result['prediction_drift']['psi']:.3f}"
    )
    if result.get("moved_with_time"):
        console.print(
            f"moved with time, not counted as drift: {', '.join(result['moved_with_time'])}"
        )
    console.print(f"report: {result['report']}")


@monitor_app.command("compare")
def monitor_compare(
    version: int = typer.Argument(..., help="the version to compare (a challenger)"),
    against: int | None = typer.Option(
        None, help="the version whose traffic it replays (default: the champion)"
    ),
    since: str | None = typer.Option(None, help="only requests logged at or after (ISO time)"),
    from_log: bool = typer.Option(
        False, "--from-log", help="VERSION's own logged answers as a shadow, not a replay"
    ),
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
) -> None:
    """VERSION replayed on the logged requests another version answered (or, --from-log, its
    answers as a live shadow): agreement, score differences, time per row, and with labels both
    metrics and a paired bootstrap interval."""
    import json

    from mlrig.components.integrations.mlflow import tracking
    from mlrig.components.integrations.mlflow.registry import resolve
    from mlrig.components.monitor.compare import CannotCompare, compare, compare_shadow
    from mlrig.components.runtime.catalog import CHAMPION

    loaded = load_or_exit(config, profile)
    name = loaded.config.model.name
    try:
        with log_errors():
            if from_log:
                result = compare_shadow(loaded.place, name, version, against, since)
            else:
                base = against or resolve(tracking.configure(loaded.place), name, CHAMPION)
                result = compare(loaded.place, name, version, base, since)
    except CannotCompare as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    print(json.dumps(result, indent=2, default=str))
    if "verdict" in result:
        console.print(f"[bold]{result['verdict']}[/]", highlight=False)


@monitor_app.command("check")
def monitor_check(
    since: str | None = typer.Option(None, help="drift window: predictions logged since (ISO)"),
    retrain: bool = typer.Option(False, help="run the training pipeline when the policy says so"),
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
) -> None:
    """Drift and labelled performance against the `monitor` policy; with --retrain, a triggered
    check runs the training pipeline, whose gate decides and whose promotion the running service
    picks up by itself."""
    from mlrig.components.monitor.check import decide
    from mlrig.components.monitor.predlog import prune_old

    loaded = load_or_exit(config, profile)
    with console.status("checking drift and performance"), log_errors():
        decision = decide(loaded, since)
    for window in decision["performance"]["windows"]:
        console.print(f"  window {window}", highlight=False)
    with log_errors():
        deleted, cutoff = prune_old(loaded.place, loaded.config.monitor.log_retention_days)
    if deleted:
        console.print(f"deleted {deleted} predictions logged before {cutoff} (retention)")
    if decision.get("held"):
        console.print(
            "[yellow]drift or decay:[/] " + "; ".join(decision["reasons"]), highlight=False
        )
        console.print(f"keep the champion: {decision['held']}", highlight=False)
        return
    if not decision["retrain"]:
        console.print("[green]keep the champion:[/] no drift or decay beyond the policy")
        return
    console.print("[yellow]retrain:[/] " + "; ".join(decision["reasons"]), highlight=False)
    if retrain:
        from mlrig.cli.project import run_training
        from mlrig.components.monitor import retrains

        retrains.record_start(loaded.workdir, decision.get("newest_event"))
        run_training(loaded, config)


@monitor_app.command("prune")
def monitor_prune(
    days: int | None = typer.Option(
        None,
        min=1,
        help="delete predictions logged more than this many days ago "
        "(default: monitor.log_retention_days)",
    ),
    vacuum: bool = typer.Option(False, help="then shrink the file (blocks the service's writes)"),
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
) -> None:
    """Delete old predictions from the log (`monitor check` does it too, by the config's
    retention); the space is reused by new predictions, or returned with --vacuum."""
    from mlrig.components.monitor.predlog import log_exists, open_log, prune_old

    loaded = load_or_exit(config, profile)
    if not days and not loaded.config.monitor.log_retention_days:
        console.print("monitor.log_retention_days is null (keep every prediction): pass --days")
        raise typer.Exit(2)
    with console.status("deleting old predictions"), log_errors():
        deleted, cutoff = prune_old(loaded.place, days or loaded.config.monitor.log_retention_days)
        if not log_exists(loaded.place):
            console.print(f"deleted {deleted} predictions; no log yet")
            return
        log = open_log(loaded.place)
        try:
            if vacuum:
                log.vacuum()
            where, size = log.where, log.size()
        finally:
            log.close()
    console.print(f"deleted {deleted} predictions logged before {cutoff}; {where}: {size}")


@monitor_app.command("labels")
def monitor_labels(
    labels_file: Path = typer.Argument(
        ...,
        help="CSV, parquet, JSON or JSON lines: request_id or the entity keys and event_time; "
        "the target",
    ),
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
) -> None:
    """Attach true labels to logged predictions."""

    from mlrig.components.config.checks import main_keys
    from mlrig.components.config.schema import FileSource
    from mlrig.components.monitor.predlog import open_log
    from mlrig.components.sources.readers import SourceError, read_source

    loaded = load_or_exit(config, profile)
    cfg = loaded.config
    if not labels_file.is_file():
        console.print(f"[red]{labels_file}: no such file[/]")
        raise typer.Exit(2)
    # read as ingest reads a file; ids and keys as text: read as numbers, "007" or a key beside
    # a gap would be lost
    text = ["request_id", *main_keys(cfg)]
    try:
        labels = read_source("labels", FileSource(kind="file", path=str(labels_file)), Path(), text)
    except SourceError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    if cfg.dataset.target not in labels:
        console.print(f"[red]{labels_file}: no column '{cfg.dataset.target}' (the target)[/]")
        raise typer.Exit(2)
    with log_errors():
        log = open_log(loaded.place)
    try:
        with log_errors():
            n = log.add_labels(labels, cfg.dataset.target, cfg.dataset.timezone)
    except ValueError as exc:
        console.print(f"[red]{labels_file}: {exc}[/]")
        raise typer.Exit(2) from None
    finally:
        log.close()
    blank = int(labels[cfg.dataset.target].isna().sum())
    unknown = f"; {blank} without a label yet, left as they were" if blank else ""
    console.print(f"labelled {n} of {len(labels)} rows{unknown}")


@monitor_app.command("replay")
def monitor_replay(
    start: str = typer.Option(..., help="train on events before this time, replay from it (ISO)"),
    end: str | None = typer.Option(None, help="replay events before this time (default: all)"),
    rows_per_month: int | None = typer.Option(None, help="replay a seeded sample of each month"),
    retrain: bool = typer.Option(True, help="run the training pipeline when the policy says so"),
    train_first: bool = typer.Option(True, help="first train on the events before --start"),
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
) -> None:
    """Backtest the closed loop: train before --start, then score the later events month by
    month as the champion would have, log them with their true labels, check drift and
    performance against the `monitor` policy, retrain when it triggers (the gate decides), and
    write a timeline report."""
    from mlrig.cli.project import run_training
    from mlrig.pipelines.replay import Step, replay

    loaded = load_or_exit(config, profile)

    def trainer(cut: LoadedConfig) -> dict:
        until = cut.config.dataset.until
        console.rule(f"training on events before {until}")
        return run_training(loaded, config, until=until)

    def show(step: Step) -> None:
        metric = ", ".join(f"{k} {v:.4f}" for k, v in step.metrics.items())
        console.print(
            f"[bold]{step.month}[/] v{step.version} · {step.rows} rows · {metric or 'no labels'}"
            f" · drifted: {', '.join(step.drifted) or 'none'}",
            highlight=False,
        )
        if step.retrain:
            console.print("  [yellow]retrain:[/] " + "; ".join(step.reasons), highlight=False)
        if step.training:
            t = step.training
            console.print(
                f"  gate: {t.get('reason')} → champion v{t.get('champion_version')}",
                highlight=False,
            )

    try:
        with console.status("replaying month by month"), log_errors():
            result = replay(
                loaded,
                start,
                end,
                trainer,
                retrain=retrain,
                train_first=train_first,
                rows_per_month=rows_per_month,
                on_step=show,
            )
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    console.print(f"timeline: {result['report']}")
