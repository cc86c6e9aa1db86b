"""mlrig's default quality against AutoGluon and LightGBM defaults, on public tables that ship
inside PyPI packages (scikit-learn, statsmodels, vega_datasets, palmerpenguins).

For each table one split is made here (the latest 20 % of event times when the table has a time
column, else a seeded stratified 20 %): mlrig gets the train part through `mlrig init` + `mlrig
run` (flags only) and scores the test part with `mlrig score`; AutoGluon (`medium_quality`,
given the wall time mlrig's init + run took; it may stop sooner) and LightGBM at its default
parameters fit the same train part. Each is scored on the same test rows. The goal: mlrig
within 1 % of the best ROC-AUC or accuracy, within 3 % of the best RMSE, in no more wall time
than AutoGluon took.

    python benchmarks/quality.py [--tables NAME ...] [--autogluon /opt/ag-venv/bin/python]

AutoGluon runs in its own environment (its pins differ from mlrig's): make one with
`python -m venv /opt/ag-venv` and
`/opt/ag-venv/bin/pip install "autogluon.tabular[lightgbm,catboost,xgboost]"`.
Without it the AutoGluon column says so and the ratio is against LightGBM defaults.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
GOALS = {"roc_auc": 0.01, "accuracy": 0.01, "rmse": 0.03}


@dataclass(frozen=True)
class Table:
    name: str
    load: Callable[[], pd.DataFrame]
    target: str
    metric: str  # roc_auc (binary, positive class 1), accuracy (multiclass) or rmse
    timestamp: str | None = None
    entity: list[str] = field(default_factory=list)


def _sklearn(name: str) -> pd.DataFrame:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    return bunch.frame.rename(columns=lambda c: str(c).replace(" ", "_"))


def _penguins() -> pd.DataFrame:
    import palmerpenguins

    return palmerpenguins.load_penguins().drop(columns=["year"])


def _statsmodels(name: str) -> pd.DataFrame:
    import statsmodels.api as sm

    return getattr(sm.datasets, name).load_pandas().data


def _fair() -> pd.DataFrame:
    frame = _statsmodels("fair")
    return frame.assign(affair=(frame.pop("affairs") > 0).astype(int))


def _grunfeld() -> pd.DataFrame:
    frame = _statsmodels("grunfeld")
    return frame.assign(year=frame["year"].astype(int))


def _vega(name: str) -> pd.DataFrame:
    from vega_datasets import data

    return getattr(data, name)()


def _cars() -> pd.DataFrame:
    frame = _vega("cars").rename(columns=lambda c: c.lower())
    return frame.dropna(subset=["miles_per_gallon"]).drop(columns=["name"])


TABLES = [
    Table("breast_cancer", lambda: _sklearn("breast_cancer"), "target", "roc_auc"),
    Table("penguins", _penguins, "species", "accuracy"),
    Table("diabetes", lambda: _sklearn("diabetes"), "target", "rmse"),
    Table("fair", _fair, "affair", "roc_auc"),
    Table("seattle_weather", lambda: _vega("seattle_weather"), "weather", "accuracy", "date"),
    Table("cars", _cars, "miles_per_gallon", "rmse", "year"),
    Table("grunfeld", _grunfeld, "invest", "rmse", "year", ["firm"]),
]


def split(table: Table, frame: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest 20 % of times (every row of a time in one part), or a seeded 20 % (by class)."""
    if table.timestamp:
        times = np.sort(frame[table.timestamp].unique())
        cut = times[int(len(times) * 0.8)]
        return frame[frame[table.timestamp] < cut], frame[frame[table.timestamp] >= cut]
    from sklearn.model_selection import train_test_split

    strata = frame[table.target] if table.metric != "rmse" else None
    train, test = train_test_split(frame, test_size=0.2, random_state=seed, stratify=strata)
    return train, test


def score(metric: str, y: pd.Series, predicted: pd.Series) -> float:
    from sklearn.metrics import accuracy_score, roc_auc_score, root_mean_squared_error

    if metric == "roc_auc":
        return float(roc_auc_score(y.astype(int), predicted.astype(float)))
    if metric == "accuracy":
        return float(accuracy_score(y.astype(str), predicted.astype(str)))
    return float(root_mean_squared_error(y.astype(float), predicted.astype(float)))


def run_mlrig(
    table: Table, train: pd.DataFrame, test: pd.DataFrame, folder: Path
) -> tuple[pd.Series, float]:
    """init + run on the train part, score of the test part: the test predictions, and the wall
    time of init + run (the budget AutoGluon gets)."""
    train.to_parquet(folder / "train.parquet", index=False)
    test.drop(columns=[table.target]).assign(row_id=range(len(test))).to_parquet(
        folder / "test.parquet", index=False
    )
    mlrig = [str(Path(sys.executable).parent / "mlrig")]
    init = [*mlrig, "init", "train.parquet", "--target", table.target]
    init += ["--timestamp", table.timestamp] if table.timestamp else []
    for key in table.entity:
        init += ["--entity", key]
    started = time.perf_counter()
    for step in (init, [*mlrig, "run"]):
        subprocess.run(step, cwd=folder, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    subprocess.run(
        [*mlrig, "score", "test.parquet", "--out", "predictions.parquet", "--keep", "row_id"],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
    )
    out = pd.read_parquet(folder / "predictions.parquet").sort_values("row_id")
    column = "probability" if table.metric == "roc_auc" else "prediction"
    return out[column].reset_index(drop=True), wall


def run_lightgbm(table: Table, train: pd.DataFrame, test: pd.DataFrame) -> pd.Series:
    """LightGBM at its default parameters: text columns as categories, times as numbers."""
    import lightgbm

    def inputs(frame: pd.DataFrame) -> pd.DataFrame:
        x = frame.drop(columns=[table.target])
        for column in x.columns:
            if pd.api.types.is_datetime64_any_dtype(x[column]):
                x[column] = x[column].astype("int64") // 10**9
            elif not pd.api.types.is_numeric_dtype(x[column]):
                x[column] = pd.Categorical(
                    x[column], categories=sorted(train[column].dropna().unique())
                )
        return x

    if table.metric == "rmse":
        model = lightgbm.LGBMRegressor(verbose=-1).fit(inputs(train), train[table.target])
        return pd.Series(model.predict(inputs(test)))
    model = lightgbm.LGBMClassifier(verbose=-1).fit(inputs(train), train[table.target].astype(str))
    if table.metric == "roc_auc":
        positive = list(model.classes_).index("1")
        return pd.Series(model.predict_proba(inputs(test))[:, positive])
    return pd.Series(model.predict(inputs(test)))


def run_autogluon(
    python: str, table: Table, folder: Path, seconds: float
) -> tuple[pd.Series | None, str]:
    """AutoGluon medium_quality in its own environment, given `seconds`; None and why when it
    cannot run."""
    if not Path(python).exists():
        return None, f"no AutoGluon environment at {python}"
    args = [
        python,
        str(HERE / "quality_autogluon.py"),
        str(folder),
        table.target,
        table.metric,
        str(max(int(seconds), 10)),
    ]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        return None, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
    return pd.read_parquet(folder / "autogluon.parquet")["prediction"], ""


def compare(table: Table, python: str) -> dict[str, object]:
    frame = table.load()
    train, test = split(table, frame)
    y = test[table.target].reset_index(drop=True)
    with tempfile.TemporaryDirectory(prefix=f"quality-{table.name}-") as tmp:
        folder = Path(tmp)
        ours, wall = run_mlrig(table, train, test, folder)
        started = time.perf_counter()
        lgbm = run_lightgbm(table, train, test)
        lgbm_wall = time.perf_counter() - started
        started = time.perf_counter()
        ag, why = run_autogluon(python, table, folder, wall)
        ag_wall = time.perf_counter() - started
    row: dict[str, object] = {
        "table": table.name,
        "rows": len(frame),
        "metric": table.metric,
        "mlrig": score(table.metric, y, ours),
        "mlrig_s": wall,
        "lightgbm": score(table.metric, y, lgbm),
        "lightgbm_s": lgbm_wall,
        "autogluon": score(table.metric, y, ag) if ag is not None else None,
        "autogluon_s": ag_wall if ag is not None else None,
        "note": why,
    }
    others = [v for v in (row["lightgbm"], row["autogluon"]) if v is not None]
    best = min(others) if table.metric == "rmse" else max(others)
    ratio = float(row["mlrig"]) / best  # type: ignore[arg-type]
    goal = GOALS[table.metric]
    row["ratio"] = ratio
    row["meets"] = ratio <= 1 + goal if table.metric == "rmse" else ratio >= 1 - goal
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", nargs="*", default=[t.name for t in TABLES])
    parser.add_argument("--autogluon", default="/opt/ag-venv/bin/python")
    args = parser.parse_args()
    rows = []
    for table in [t for t in TABLES if t.name in args.tables]:
        print(f"{table.name} ...", file=sys.stderr, flush=True)
        try:
            rows.append(compare(table, args.autogluon))
        except subprocess.CalledProcessError as exc:  # say which command failed and why, go on
            tail = (exc.stdout or "").strip().splitlines()[-12:]
            print(
                f"{table.name}: {' '.join(exc.cmd[-2:])} failed:", *tail, sep="\n", file=sys.stderr
            )
            continue
        print(json.dumps(rows[-1], default=str), file=sys.stderr, flush=True)
    heads = ["table", "rows", "metric", "mlrig", "AutoGluon", "LightGBM defaults", "mlrig s"]
    heads += ["AutoGluon s", "ratio to best", "quality goal met", "time goal met"]
    print("| " + " | ".join(heads) + " |")
    print("|" + "---|" * len(heads))
    for r in rows:
        ag = f"{r['autogluon']:.4f}" if r["autogluon"] is not None else f"n/a ({r['note']})"
        ag_s = f"{r['autogluon_s']:.0f}" if r["autogluon_s"] is not None else "-"
        goal = f"within {GOALS[str(r['metric'])]:.0%}"
        cells = [r["table"], r["rows"], r["metric"], f"{r['mlrig']:.4f}", ag]
        cells += [f"{r['lightgbm']:.4f}", f"{r['mlrig_s']:.0f}", ag_s, f"{r['ratio']:.3f}"]
        cells += [f"{'yes' if r['meets'] else 'no'} ({goal})"]
        faster = r["autogluon_s"] is not None and r["mlrig_s"] <= r["autogluon_s"]  # type: ignore[operator]
        cells += ["-" if r["autogluon_s"] is None else "yes" if faster else "no"]
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
