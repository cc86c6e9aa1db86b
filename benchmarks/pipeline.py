"""The whole pipeline: `mlrig run` on the flights demo, each stage's wall time and share, then
two baselines measured in the same run on the same data:

- features: Feast's point-in-time retrieval of the training set (OfflineFeatures.fetch, what the
  features stage calls) against one plain DuckDB query doing the same joins with ASOF JOIN on the
  same view files (goal: ratio <= 2);
- overhead: the sum of the pipeline's stage wall times against calling the same stage functions
  directly in one process on the same config, in a new project folder of its own (goal: ratio
  <= 1.1), and the two per stage;
- caching: the same `mlrig run` again with nothing changed (goal: <= 5 s, no new model version).

Usage: python benchmarks/pipeline.py [--sample N] [--keep DIR] [--memory]
The whole demo (336,776 flights) by default; everything is written under a temporary folder.
Goal for the whole run on 2 idle cores: <= 60 s.

--memory: then one more `mlrig run --no-cache`, each process's PSS read every 0.2 s and charged to
the stages running, for each stage's peak. Not in the timed run: reading a process's PSS walks its
page tables, and the runs it watched were slower (the demo 66-72 s against 57-61 s unwatched, its
train task using 74-76 s of CPU against 64-67 s, 2026-12-06).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
GOALS = {"total_s": 60.0, "rerun_s": 5.0, "features_vs_asof": 2.0, "overhead": 1.1}  # issue "Scale"
STAGES = ["ingest", "validate", "features", "eda", "train", "evaluate", "register", "materialize"]


def write_project(folder: Path, sample: int | None) -> Path:
    data = yaml.safe_load((REPO / "mlrig.yaml").read_text())
    data["dataset"]["sample_rows"] = sample
    path = folder / "mlrig.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class Sampler(threading.Thread):
    """Memory of a process tree every 0.2 s, charged to the stages running at that moment: the
    sum of its processes' PSS, so the pages a forked stage shares with the warm server count
    once (RSS would count them in each)."""

    def __init__(self, pid: int, events: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.events, self.stop = psutil.Process(pid), events, threading.Event()
        self.peak: dict[str, int] = {}
        self.records: list[dict] = []

    def _running(self) -> set[str]:
        found = sorted(self.events.glob("events-*.jsonl"))
        if not found:
            return set()
        try:
            self.records = [json.loads(x) for x in found[-1].read_text().splitlines() if x]
        except (OSError, ValueError):
            return set()
        state: dict[str, str] = {}
        for record in self.records:
            state[record["stage"]] = record["status"]
        return {s for s, status in state.items() if status == "running"}

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                rss = sum(p.memory_full_info().pss for p in procs if p.is_running())
            except psutil.Error:
                rss = 0
            for stage in self._running() | {"(whole run)"}:
                self.peak[stage] = max(self.peak.get(stage, 0), rss)
            time.sleep(0.2)


def run_pipeline(
    config: Path, memory: bool = False
) -> tuple[float, dict[str, float], dict[str, int]]:
    """`mlrig run`: its wall time, each stage's, and (memory: a run of every stage, watched)
    each stage's peak PSS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLRIG")}
    cmd = [sys.executable, "-m", "mlrig.cli", "run", "--config", str(config)]
    started = time.perf_counter()
    cmd += ["--no-cache"] if memory else []
    proc = subprocess.Popen(cmd, cwd=config.parent, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    sampler = Sampler(proc.pid, config.parent / ".mlrig")
    if memory:
        sampler.start()
    output = proc.communicate()[0]
    total = time.perf_counter() - started
    if memory:
        sampler.stop.set()
        sampler.join()
    if proc.returncode != 0:
        sys.exit(f"mlrig run failed:\n{output[-3000:]}")
    # the summary table mlrig run prints: "│ train │ done │ 26.51 │ ..." (the events file is gone)
    done = re.findall(r"^│ (\w+)\s+│ done\s+│\s+([\d.]+) │", output, flags=re.MULTILINE)
    return total, {stage: float(seconds) for stage, seconds in done}, sampler.peak


def print_memory(config: Path) -> None:
    """Each stage's peak PSS in a run of every stage, watched (slower than the timed run)."""
    watched, walls, peak = run_pipeline(config, memory=True)
    print(f"memory, in one more run of every stage with each process's PSS read every 0.2 s "
          f"({watched:.1f} s watched):")  # fmt: skip
    print(f"{'stage':<12}{'wall s':>9}{'peak PSS GB':>13}")
    for stage in [*STAGES, "(whole run)"]:
        if stage in peak:
            wall = walls.get(stage, watched)
            print(f"{stage:<12}{wall:>9.1f}{peak[stage] / 2**30:>13.2f}")


def registered(config: Path) -> list[str]:
    from mlrig.components.config.loader import load
    from mlrig.components.integrations.mlflow import tracking

    loaded = load(config)
    client = tracking.configure(loaded.place).MlflowClient()
    return sorted(
        v.version for v in client.search_model_versions(f"name = '{loaded.config.model.name}'")
    )


def direct(config: Path, out: Path) -> dict[str, float]:
    """The same stage functions called in this process, in order, on the same config."""
    from mlrig.components.config import env
    from mlrig.components.config.loader import load
    from mlrig.components.eda.io import run as eda
    from mlrig.components.evaluate.io import run as evaluate
    from mlrig.components.features.io import publish
    from mlrig.components.features.io import run as features
    from mlrig.components.ingest.io import run as ingest
    from mlrig.components.register.io import run as register
    from mlrig.components.train.io import run as train
    from mlrig.components.validate.io import run as validate

    os.environ[env.NO_CACHE] = "1"  # the stages must really run, not come from the cache
    js = load(config).to_json()
    o = {k: str(out / k) for k in ("raw", "val", "q", "ts", "eda", "model", "hold", "eval")}
    calls = {
        "ingest": lambda: ingest(js, o["raw"]),
        "validate": lambda: validate(js, o["raw"], o["val"], o["q"]),
        "features": lambda: features(js, o["val"], o["ts"]),
        "eda": lambda: eda(js, o["ts"], o["eda"] + ".html"),
        "train": lambda: train(js, o["ts"], o["model"], o["hold"]),
        "evaluate": lambda: evaluate(js, o["model"], o["hold"], o["eval"]),
    }
    walls = {}
    for name, call in calls.items():
        started = time.perf_counter()
        call()
        walls[name] = time.perf_counter() - started
    started = time.perf_counter()
    result = register(js, o["model"], o["hold"], o["eval"])
    walls["register"] = time.perf_counter() - started
    started = time.perf_counter()
    publish(js, result["champion_version"] or 0)
    walls["materialize"] = time.perf_counter() - started
    return walls


def feature_retrieval(config: Path, feast_own: bool = False) -> tuple[float, float, int]:
    """Feast's point-in-time join of the training set vs one DuckDB ASOF JOIN query.

    Feast's offline store is mlrig's (components/integrations/feast/asof_store.py); with
    feast_own, Feast's stock DuckDB store (its range join) is timed instead."""
    from mlrig.components.config.loader import load
    from mlrig.components.contract.assemble import prepare
    from mlrig.components.contract.contract import Contract
    from mlrig.components.integrations.feast import feast_store
    from mlrig.components.integrations.feast.repo import open_store, repo_config
    from mlrig.components.runtime.catalog import EVENT_TS

    loaded = load(config)
    training = next((config.parent / ".mlrig/pipeline_root").glob("*/features/training_set"))
    contract = Contract.load(training)
    rows = prepare(contract, pd.read_parquet(training / "training_set.parquet"))
    keys = list(contract.entity_keys)
    entity_df = rows.loc[rows[keys].notna().all(axis=1), [*keys, EVENT_TS]].reset_index(drop=True)
    fs = feast_store.live_feature_set(loaded.place)
    if feast_own:
        from feast import FeatureStore

        repo = repo_config(loaded.place)
        repo.offline_config, repo._offline_store = {"type": "duckdb"}, None  # Feast's own store
        store = FeatureStore(config=repo)
    else:
        store = open_store(loaded.place)
    started = time.perf_counter()
    feast_store.OfflineFeatures(store).fetch(fs, entity_df)
    feast_s = time.perf_counter() - started

    specs = {v.name: v for v in loaded.config.features.views}
    started = time.perf_counter()
    con = duckdb.connect()
    con.register("e", entity_df.assign(_row=range(len(entity_df))))
    select, joins = ["e._row"], []
    for i, logical in enumerate(fs.views.values()):
        path = feast_store.view_data_path(loaded.place, fs.version, specs[logical])
        columns = duckdb.sql(f"DESCRIBE SELECT * FROM '{path}'").df()["column_name"].tolist()
        on = [c for c in columns if c in keys]
        values = [c for c in columns if c not in on and c != EVENT_TS]
        ttl = specs[logical].ttl_hours
        fresh = f"v{i}.{EVENT_TS} >= e.{EVENT_TS} - INTERVAL {ttl} HOUR" if ttl else "TRUE"
        select += [f"CASE WHEN {fresh} THEN v{i}.{c} END AS {logical}__{c}" for c in values]
        cond = " AND ".join(f"e.{k} = v{i}.{k}" for k in on)
        joins.append(f"ASOF LEFT JOIN '{path}' v{i} ON {cond} AND e.{EVENT_TS} >= v{i}.{EVENT_TS}")
    frame = con.sql(f"SELECT {', '.join(select)} FROM e {' '.join(joins)} ORDER BY e._row").df()
    asof_s = time.perf_counter() - started
    return feast_s, asof_s, len(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=None, help="flights to sample (default all)")
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep the folder")
    own = "time Feast's stock DuckDB store instead of mlrig's ASOF one"
    parser.add_argument("--feast-own-join", action="store_true", help=own)
    parser.add_argument("--memory", action="store_true", help="each stage's peak, in a run more")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="mlrig-bench-pipeline-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        config = write_project(folder, args.sample)
        total, walls, _ = run_pipeline(config)
        goal = GOALS["total_s"]
        print(f"mlrig run, {args.sample or 'all'} flights: {total:.1f} s "
              f"(goal <= {goal:.0f} s; ratio {total / goal:.2f})")  # fmt: skip
        stage_sum = sum(walls.values())
        print(f"{'stage':<12}{'wall s':>9}{'share':>8}")
        for stage in STAGES:
            if stage in walls:
                print(f"{stage:<12}{walls[stage]:>9.1f}{walls[stage] / stage_sum:>8.0%}")
        print(f"{'(whole run)':<12}{total:>9.1f}")
        versions = registered(config)
        rerun, _, _ = run_pipeline(config)
        print(f"rerun with nothing changed: {rerun:.1f} s (goal <= {GOALS['rerun_s']:.0f} s), "
              f"model versions {versions} before and {registered(config)} after "
              "(goal: the same)")  # fmt: skip
        shutil.rmtree(config.parent / ".mlrig" / "cache" / "runs")  # the stage cache alone
        staged, _, _ = run_pipeline(config)
        print(f"the same rerun without the run's record, every stage from the stage cache: "
              f"{staged:.1f} s")  # fmt: skip
        feast_s, asof_s, n = feature_retrieval(config, args.feast_own_join)
        which = "Feast's own DuckDB join" if args.feast_own_join else "Feast point-in-time join"
        print(f"features: {which} {feast_s:.1f} s vs DuckDB ASOF JOIN "
              f"{asof_s:.1f} s on {n:,} entity rows: ratio {feast_s / asof_s:.2f} "
              f"(goal <= {GOALS['features_vs_asof']})")  # fmt: skip
        # a project of its own, as new as the pipeline's first run was: its register promotes
        # and its materialize loads the online store from the start, as the pipeline's did
        alone = folder / "direct"
        alone.mkdir(exist_ok=True)
        inproc = direct(write_project(alone, args.sample), alone / "stages")
        ratio = stage_sum / sum(inproc.values())
        print(f"overhead: stage walls in the pipeline {stage_sum:.1f} s vs the same functions in "
              f"one process {sum(inproc.values()):.1f} s: ratio {ratio:.2f} "
              f"(goal <= {GOALS['overhead']})")  # fmt: skip
        print("  per stage, pipeline / one process: " + ", ".join(
            f"{s} {walls[s]:.1f}/{inproc[s]:.1f}" for s in STAGES if s in walls and s in inproc
        ))  # fmt: skip
        if args.memory:
            print_memory(config)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
