"""The `mlrig` command line."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.markup import escape

from mlrig import process, progress
from mlrig.cli_cluster import cluster_app, deploy, image_app, pipeline_app
from mlrig.cli_common import ConfigOpt, ProfileOpt, console, load_or_exit
from mlrig.cli_model import model_app
from mlrig.cli_monitor import monitor_app
from mlrig.components.common import cpus
from mlrig.components.common.catalog import REJECTED_FILE
from mlrig.components.config import env
from mlrig.components.config.loader import LoadedConfig

app = typer.Typer(help="mlrig: data in, a monitored prediction service out.", no_args_is_help=True)
config_app = typer.Typer(help="Inspect the effective config.")
app.add_typer(config_app, name="config")
features_app = typer.Typer(help="Feast helpers.")
app.add_typer(image_app, name="image")
app.add_typer(pipeline_app, name="pipeline")
app.add_typer(cluster_app, name="cluster")
app.command("deploy")(deploy)
app.add_typer(features_app, name="features")
app.add_typer(model_app, name="model")
app.add_typer(monitor_app, name="monitor")


@config_app.command("show")
def config_show(config: Path | None = ConfigOpt, profile: str | None = ProfileOpt) -> None:
    """Print the effective config (file + profile + MLRIG__* overrides)."""
    loaded = load_or_exit(config, profile)
    data = loaded.config.model_dump(mode="json", exclude={"profiles"})
    console.print(f"# root: {loaded.root}")
    shown = env.mask(yaml.safe_dump(data, sort_keys=False))  # ${VAR} stay references
    console.print(shown, highlight=False, markup=False)


def _run_pipeline(
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
            console.print(f"[red]pipeline failed at stage {name}:[/] "
                          f"{escape(str(rec.get('error')))}", highlight=False)  # fmt: skip
        else:
            lines = [ln for ln in log_file.read_text().splitlines() if ln.strip()]
            last = escape(lines[-1]) if lines else "no output"
            console.print(f"[red]pipeline failed[/] (exit {proc.returncode}): {last}",
                          highlight=False)  # fmt: skip
        console.print(f"the orchestrator's full log: {log_file}")
        raise typer.Exit(1)
    return state


@app.command()
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
    state = _run_pipeline(loaded, config, "training", runner, progress.STAGES, extra)
    ev = state.get("evaluate", {}).get("outputs", {})
    name = loaded.config.model.primary_metric
    reg = state.get("register", {}).get("outputs", {})
    console.print(
        f"[bold green]holdout {name}: {ev.get(f'holdout_{name}')}[/] ({ev.get('holdout')}) · "
        f"[bold]CV {name}: {ev.get(f'cv_{name}')}[/] ({ev.get('cv')})"
    )
    best = state.get("train", {}).get("outputs", {}).get("best")
    if f"baseline_{name}" in ev:
        console.print(f"baseline (LightGBM, default parameters, same holdout): {name} "
                      f"{ev[f'baseline_{name}']} · chosen ({best}): "
                      f"{ev.get(f'holdout_{name}')}")  # fmt: skip
    if ev.get("warning"):
        console.print(f"[yellow]warning: {ev['warning']}[/]")
    console.print(
        f"model {reg.get('model')} v{reg.get('version')} · champion v{reg.get('champion_version')}"
        f" · gate: {reg.get('reason')}"
    )
    console.print(f"report: {ev.get('report')}")
    console.print("next: [bold]mlrig serve[/] · [bold]mlflow ui[/] (runs and the registered model)")
    return reg


@app.command()
def init(
    data: str = typer.Argument(
        ...,
        metavar="SOURCE",
        help="a CSV, parquet or JSON file; an http(s) URL answering JSON or CSV records; or a "
        "database URL (sqlite:///shop.db, 'postgresql://user:${PGPASSWORD}@host/db') with "
        "--table or --query",
    ),
    target: str = typer.Option(..., help="the column to predict"),
    entity: list[str] = typer.Option([], help="an entity key column (repeatable)"),
    timestamp: str | None = typer.Option(None, help="the event-time column, if there is one"),
    table: str | None = typer.Option(None, help="database source: the table to read"),
    query: str | None = typer.Option(None, help="database source: the SELECT to read"),
    records_path: str | None = typer.Option(
        None, help="HTTP JSON source: dotted path to the list of records in the answer"
    ),
    header: list[str] = typer.Option(
        [], help="HTTP source: 'Name: value' request header, credentials as ${VAR} (repeatable)"
    ),
    next_path: str | None = typer.Option(
        None, help="paged HTTP JSON source: dotted path to the next page's URL in each answer"
    ),
    max_rows: int = typer.Option(
        1_000_000,
        min=100,
        help="rows read to infer the config, from the start of a file or "
        "query (`mlrig run` reads them all)",
    ),
    out: Path = typer.Option(Path("mlrig.yaml"), help="where to write the config"),
    force: bool = typer.Option(False, help="overwrite an existing config"),
) -> None:
    """Write a working mlrig.yaml for a new table: types, categoricals and task inferred."""
    from mlrig.components.config.loader import ConfigError, build
    from mlrig.init import InitError, build_config
    from mlrig.init_notes import notes
    from mlrig.init_source import InitSourceError, SourceError, read

    if out.exists() and not force:
        console.print(f"[red]{out} exists[/] (pass --force to overwrite)")
        raise typer.Exit(2)
    folder = out.resolve().parent
    try:
        with console.status(f"reading {data} …") as status:  # a million rows take seconds
            got = read(data, folder, table, query, records_path, header, next_path, max_rows)
            frame = got.frame
            file = got.source["path"] if got.source["kind"] == "file" else got.name
            status.update(f"{len(frame):,} rows read; inferring column types and the task …")
            data_cfg, left_out, numbers = build_config(
                frame, file, target, entity, timestamp, sep=got.sep, encoding=got.encoding,
                typed=got.typed, location=None if got.source["kind"] == "file" else got.source,
            )  # fmt: skip
            build(data_cfg, folder)  # the written config must load
            said = notes(frame, data_cfg, left_out, numbers)
    except (SourceError, InitError, InitSourceError, ConfigError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    header = f"# mlrig config for {got.name}, written by `mlrig init`; edit freely.\n"
    out.write_text(header + yaml.safe_dump(data_cfg, sort_keys=False))
    ds = data_cfg["dataset"]
    console.print(f"wrote {out}: {len(frame)} rows, {len(ds['tables']['main']['columns'])} "
                  f"columns, task {ds['task']}. Next: [bold]mlrig run[/]")  # fmt: skip
    if got.truncated:
        said.insert(0, f"the config is inferred from the first {len(frame):,} rows (--max-rows); "
                       "`mlrig run` reads the whole table")  # fmt: skip
    for note in said:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


@app.command()
def score(
    input_path: Path = typer.Argument(
        ...,
        help="CSV, parquet, JSON records or JSON lines of request-shaped rows, or a folder "
        "of such parts",
    ),
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    runner: str = typer.Option("subprocess", help="kfp.local runner: subprocess or docker"),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="also write the predictions here (.csv, .parquet or .json)"
    ),
    keep: list[str] = typer.Option(
        [], "--keep", help="a column of the file to carry to the predictions (a row id; repeatable)"
    ),
) -> None:
    """Batch-score a file with the champion (features joined as of each row's time)."""
    loaded = load_or_exit(config, profile)
    if not input_path.exists():  # a file, or a folder of parts (a partitioned batch)
        console.print(f"[red]input_path: no such file or folder {input_path}[/]")
        raise typer.Exit(2)
    if out is not None and out.suffix.lower() not in EXPORTS:
        console.print(f"[red]--out: {out.suffix or 'no suffix'} is not one of {list(EXPORTS)}[/]")
        raise typer.Exit(2)
    params = {"input_path": str(input_path.resolve()), "keep": json.dumps(keep)}
    state = _run_pipeline(loaded, config, "scoring", runner, ["score"], params=params)
    done = state.get("score", {}).get("outputs", {})
    written = Path(done["predictions"])
    console.print(f"[green]scored {done.get('scored')} rows with v{done.get('model_version')}, "
                  f"rejected {done.get('rejected')}[/] (rows and reasons: "
                  f"{written.with_name(REJECTED_FILE)})")  # fmt: skip
    if done.get("ignored_columns"):
        console.print(f"ignored the table's columns the model does not take: "
                      f"{', '.join(done['ignored_columns'])}", highlight=False)  # fmt: skip
    if out is not None:
        _export(written, out)
        written = out
    console.print(f"predictions: {written}")


# the formats `mlrig score --out` writes, by suffix
EXPORTS = {".csv": "to_csv", ".parquet": "to_parquet", ".json": "to_json"}


def _export(predictions: Path, out: Path) -> None:
    import pandas as pd

    frame = pd.read_parquet(predictions)
    kwargs = {"orient": "records", "date_format": "iso"} if out.suffix.lower() == ".json" else {}
    out.parent.mkdir(parents=True, exist_ok=True)
    getattr(frame, EXPORTS[out.suffix.lower()])(out, index=False, **kwargs)


def _port_free_or_exit(host: str, port: int) -> None:
    """One line, not a traceback, when the port is taken."""
    try:
        with socket.socket() as probe:
            probe.bind((host, port))
    except OSError as exc:
        console.print(f"[red]cannot serve on {host}:{port}:[/] {exc.strerror}")
        raise typer.Exit(1) from None


@app.command()
def serve(
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    port: int | None = typer.Option(None, help="port (default: serving.port)"),
    host: str | None = typer.Option(None, help="bind address (default: serving.host)"),
) -> None:
    """Serve the champion model with BentoML (POST /predict, /metrics, /readyz)."""
    loaded = load_or_exit(config, profile)
    cfg_path = Path(config or env.get(env.CONFIG_PATH) or "mlrig.yaml").resolve()
    home = loaded.path(loaded.config.workdir) / f"bentoml_home-{port or loaded.config.serving.port}"
    child_env = {
        **os.environ,
        **env.QUIET_TELEMETRY,
        env.CONFIG_PATH: str(cfg_path),
        env.PROFILE: loaded.config.profile,
        "BENTOML_HOME": str(home),
        **cpus.thread_env(1),  # one thread per request (see serving/service.py)
    }
    cmd = [
        sys.executable, "-m", "bentoml", "serve", "mlrig.serving.service:PredictionService",
        "--host", host or loaded.config.serving.host,
        "--port", str(port or loaded.config.serving.port),
    ]  # fmt: skip
    _port_free_or_exit(host or loaded.config.serving.host, port or loaded.config.serving.port)
    console.print(f"[bold]serving[/] {' '.join(cmd[3:])}")
    sys.stdout.flush()
    # exec: the server takes this process's place, so SIGTERM reaches it directly and it drains
    os.execve(sys.executable, cmd, child_env)


def pd_timestamp_utc(text: str) -> Any:
    """An ISO time as an aware UTC datetime (naive: UTC)."""
    import pandas as pd

    stamp = pd.Timestamp(text)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


@features_app.command("materialize")
def features_materialize(
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    full: bool = typer.Option(False, "--full", help="reread every row and reload every view"),
    until: str | None = typer.Option(
        None, "--until", help="load the values as of this ISO time (default: now; a backfill)"
    ),
) -> None:
    """Bring the live feature set (the champion's definitions) up to its sources: new rows past
    each table's watermark reach the offline tables and the online store, with no training run
    (the cluster's CronJob runs this)."""
    from mlrig.components.features.refresh import refresh
    from mlrig.components.ingest.errors import SourceError

    loaded = load_or_exit(config, profile)
    try:
        now = pd_timestamp_utc(until) if until else None
    except ValueError:
        console.print(f"[red]--until: '{until}' is not an ISO time[/]")
        raise typer.Exit(2) from None
    try:
        with console.status("refreshing the live feature set") as status:
            result = refresh(loaded, full=full, now=now, say=lambda text: status.update(text))
    except LookupError as exc:
        console.print(str(exc))
        raise typer.Exit(1) from None
    except SourceError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    tables = ", ".join(f"{n} +{t['new_rows']}" for n, t in result["tables"].items())
    online = loaded.config.stores.feast_online_type
    console.print(f"materialized feature set {result['feature_set']} up to {result['until']} "
                  f"into {online} (new rows: {tables})")  # fmt: skip


@features_app.command("status")
def features_status(
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    as_json: bool = typer.Option(False, "--json", help="one JSON object per view"),
) -> None:
    """Per live view: newest event online, last materialization, rows, age."""
    from mlrig.components.features.refresh import status

    loaded = load_or_exit(config, profile)
    try:
        rows = status(loaded)
    except LookupError as exc:
        console.print(str(exc))
        raise typer.Exit(1) from None
    for row in rows:
        if as_json:
            print(json.dumps(row, default=str))
            continue
        age = "never refreshed" if row["age_s"] is None else f"{row['age_s'] / 3600:.1f} h old"
        console.print(f"{row['view']}: newest event {row['last_event']}, materialized "
                      f"{row['materialized_at']}, {row['rows']} rows, {age}")  # fmt: skip


@features_app.command("serve")
def features_serve(
    config: Path | None = ConfigOpt,
    profile: str | None = ProfileOpt,
    repo: Path | None = typer.Option(
        None, "--repo", help="a folder with a feature_store.yaml (default: from the mlrig config)"
    ),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(6566, "--port"),
) -> None:
    """Serve online features over HTTP (POST /get-online-features), read-only: Feast's write
    routes (/push, /write-to-online-store, /materialize*) are not there."""
    from mlrig.components.common.feast_reader import read_only_feast
    from mlrig.feature_server import serve

    read_only_feast()  # it only reads: Feast starts 3.5 s sooner (common/feast_reader.py)
    if repo is not None:
        from feast import FeatureStore

        if not (repo / "feature_store.yaml").is_file():
            console.print(f"[red]--repo {repo}:[/] no feature_store.yaml in it")
            raise typer.Exit(1)
        store = FeatureStore(repo_path=str(repo))
    else:
        from mlrig.components.common.feast_store import live_feature_set, open_store

        loaded = load_or_exit(config, profile)
        store = open_store(loaded)
        live = live_feature_set(loaded)
        if live is not None:
            console.print(f"the champion's feature service: [bold]{live.service}[/]")
    _port_free_or_exit(host, port)
    console.print(f"[bold]feature server[/] (read-only) on http://{host}:{port}")
    serve(store, host, port)


@features_app.command("env")
def features_env(config: Path | None = ConfigOpt, profile: str | None = ProfileOpt) -> None:
    """Print shell exports that fill feature_repo/feature_store.yaml for the feast CLI."""
    from mlrig.components.common.feast_store import feast_env

    for key, value in feast_env(load_or_exit(config, profile)).items():
        print(f"export {key}={shlex.quote(value)}")


@app.command()
def version() -> None:
    """Print versions of mlrig and its stack."""
    from importlib.metadata import version as v

    names = ["mlrig", "kfp", "feast", "mlflow", "bentoml", "pandas", "scikit-learn"]
    console.print(json.dumps({n: v(n) for n in names}, indent=2))


if __name__ == "__main__":
    app()
