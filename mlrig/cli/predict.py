"""`mlrig score` (batch) and `mlrig serve` (the REST service)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer

from mlrig.cli.common import ConfigOpt, ProfileOpt, console, load_or_exit, port_free_or_exit
from mlrig.cli.project import run_pipeline
from mlrig.components.config import env
from mlrig.components.runtime import cpus
from mlrig.components.runtime.catalog import REJECTED_FILE

EXPORTS = {".csv": "to_csv", ".parquet": "to_parquet", ".json": "to_json"}


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
    state = run_pipeline(loaded, config, "scoring", runner, ["score"], params=params)
    done = state.get("score", {}).get("outputs", {})
    written = Path(done["predictions"])
    console.print(
        f"[green]scored {done.get('scored')} rows with v{done.get('model_version')}, "
        f"rejected {done.get('rejected')}[/] (rows and reasons: "
        f"{written.with_name(REJECTED_FILE)})"
    )
    if done.get("ignored_columns"):
        console.print(
            f"ignored the table's columns the model does not take: "
            f"{', '.join(done['ignored_columns'])}",
            highlight=False,
        )
    if out is not None:
        _export(written, out)
        written = out
    console.print(f"predictions: {written}")


def _export(predictions: Path, out: Path) -> None:
    """The predictions file as CSV, parquet or JSON records, a row group at a time."""
    import shutil

    import pyarrow.parquet as pq

    out.parent.mkdir(parents=True, exist_ok=True)
    kind = out.suffix.lower()
    if kind == ".parquet":
        shutil.copyfile(predictions, out)
        return
    parquet = pq.ParquetFile(predictions)
    groups = range(parquet.num_row_groups)
    with out.open("w", encoding="utf-8", newline="") as fh:
        if kind == ".json":  # one array of records, written piece by piece
            fh.write("[")
        written = 0
        for i in groups:
            frame = parquet.read_row_group(i).to_pandas()
            if kind == ".csv":
                frame.to_csv(fh, index=False, header=i == 0)
            elif len(frame):
                text = frame.to_json(orient="records", date_format="iso")[1:-1]
                fh.write(("," if written else "") + text)
            written += len(frame)
        if kind == ".csv" and not parquet.num_row_groups:
            parquet.schema_arrow.empty_table().to_pandas().to_csv(fh, index=False)
        if kind == ".json":
            fh.write("]")


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
        sys.executable,
        "-m",
        "bentoml",
        "serve",
        "mlrig.serving.service:PredictionService",
        "--host",
        host or loaded.config.serving.host,
        "--port",
        str(port or loaded.config.serving.port),
    ]
    port_free_or_exit(host or loaded.config.serving.host, port or loaded.config.serving.port)
    console.print(f"[bold]serving[/] {' '.join(cmd[3:])}")
    sys.stdout.flush()
    # exec: the server takes this process's place, so SIGTERM reaches it directly and it drains
    os.execve(sys.executable, cmd, child_env)
