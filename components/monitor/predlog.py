"""The prediction log: every served prediction (request id, time, model version, entity keys,
request fields, the model inputs used, the prediction) in SQLite under the work folder, or in
PostgreSQL (stores.prediction_log: the cluster profile, where 2-6 replicas write at once).

Each prediction is committed before its response leaves (SQLite: WAL, synchronous=NORMAL, about
0.03 ms here; PostgreSQL: one round trip), so killing the service loses nothing that a client was
told. Labels that arrive later are joined by request id, or by entity keys and event time.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from mlrig.components.config.place import Place
from mlrig.components.monitor.logdb import LogUnavailable, PostgresDb, open_db
from mlrig.components.monitor.logrows import as_json, new_ids, now_iso, score_of

__all__ = ["LogUnavailable", "PredictionLog", "log_location", "open_log", "score_of"]


# on a 1.35 GB log a chunk of 1,000 rows took 37 ms (p50; 46 ms p99, 0.4 s once, with a WAL
# checkpoint), which a request's commit may wait for; a pause between chunks lets them in
PRUNE_CHUNK = 1_000
PRUNE_PAUSE = 0.01


def features_of(logged: pd.DataFrame) -> pd.DataFrame:
    """The model inputs of logged predictions, by input name, row for row. A frame of their
    own: an input may be named like a column of the log ('prediction', 'label', 'version')."""
    return pd.DataFrame([json.loads(f) for f in logged.features], index=logged.index)


def log_path(place: Place) -> Path:
    """The SQLite file of a project without stores.prediction_log (under the work folder)."""
    return place.workdir / "predictions" / "predictions.db"


def log_location(place: Place) -> str | Path:
    """Where the project's prediction log lives: stores.prediction_log's PostgreSQL URL, or the
    SQLite file under the work folder."""
    return place.stores.prediction_log or log_path(place)


def log_exists(place: Place) -> bool:
    """Whether there can be predictions to read (a database always; a file once written)."""
    location = log_location(place)
    return isinstance(location, str) or location.exists()


def open_log(place: Place) -> PredictionLog:
    """The project's prediction log (created when it does not exist yet)."""
    return PredictionLog(log_location(place))


@contextmanager
def opened(place: Place) -> Iterator[PredictionLog]:
    """The project's prediction log, closed when the block ends (however it ends)."""
    log = open_log(place)
    try:
        yield log
    finally:
        log.close()


def prune_old(place: Place, days: int | None) -> tuple[int, str | None]:
    """Delete predictions logged more than `days` ago (monitor.log_retention_days); returns
    (how many, the cutoff), or (0, None) when every prediction is kept (days None)."""
    if not days or not log_exists(place):
        return 0, None
    cutoff = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="microseconds")
    log = open_log(place)
    try:
        return log.prune(cutoff), cutoff
    finally:
        log.close()


def _key_text(value: Any, integer: bool) -> str | None:
    """An entity key as matched between a labels file and the log; None when it is missing. An
    integer key matches whether the file says 598, 598.0 or "598.0" (a column with a gap is
    read as floats); a text key matches as it is written ("007" is not "7")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if integer and not isinstance(value, bool):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        return str(int(number)) if number.is_integer() else str(value)
    return str(value)


def instants(values: pd.Series, timezone: str) -> list[int | None]:
    """Times as nanoseconds since the epoch (None where there is no time): the same instant
    matches whatever its offset or notation; naive times are local to timezone."""
    from mlrig.components.contract.timeutil import to_utc

    utc = to_utc(values.reset_index(drop=True), timezone)
    return [None if pd.isna(t) else int(t.value) for t in utc]


def since_instant(since: str | None) -> str | None:
    """An ISO time as logged_at is written (UTC, to the microsecond), so --since compares
    instants: 2026-12-03T13:00+01:00 is 12:00 UTC; a naive time is UTC."""
    if not since:
        return None
    try:
        stamp = pd.Timestamp(since)
    except ValueError:
        raise ValueError(f"since: '{since}' is not an ISO time") from None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.isoformat(timespec="microseconds")


Rows = pd.DataFrame | list[dict[str, Any]]


def _records(rows: Rows) -> list[dict[str, Any]]:
    """Rows as dicts, one per row: a frame without columns (a table with no entity keys) gives
    an empty dict per row, where pandas' to_dict gives no rows at all."""
    if not isinstance(rows, pd.DataFrame):
        return rows
    return rows.to_dict("records") if len(rows.columns) else [{} for _ in range(len(rows))]


class PredictionLog:
    """The log in a SQLite file (a path) or a PostgreSQL database (a postgresql:// URL); safe to
    share between the threads of a worker."""

    def __init__(self, location: str | Path, connect: bool = True) -> None:
        self.db = open_db(location, connect)
        self.where = self.db.where

    def check(self) -> None:
        """Reach the database now (PostgreSQL; raises LogUnavailable)."""
        if isinstance(self.db, PostgresDb):
            self.db.check()

    def log(
        self,
        *,
        model: str,
        version: int,
        keys: dict[str, Any],
        request: dict[str, Any],
        features: dict[str, Any],
        prediction: dict[str, Any],
        event_time: Any = None,
        request_id: str | None = None,
    ) -> str:
        """Commit one prediction; returns its request id."""
        rid = request_id or new_ids()[0]
        row = (
            rid,
            now_iso(),
            None if event_time is None else str(event_time),
            model,
            version,
            as_json(keys),
            as_json(request),
            as_json(features),
            as_json(prediction),
            score_of(prediction),
        )
        self.db.insert([row])
        return rid

    def log_many(
        self,
        *,
        model: str,
        version: int,
        keys: Rows,
        requests: Rows,
        features: Rows,
        predictions: Rows,
        event_times: pd.Series,
    ) -> list[str]:
        """Commit a batch of predictions (batch scoring, a replay, /predict_batch) in one
        transaction; frames or lists of dicts, row-aligned. Returns the request ids in row order."""
        now = now_iso()
        predictions = _records(predictions)
        ids = new_ids(len(predictions))
        rows = [
            (
                rid,
                now,
                str(t),
                model,
                version,
                as_json(k),
                as_json(r),
                as_json(f),
                as_json(p),
                score_of(p),
            )
            for rid, t, k, r, f, p in zip(
                ids,
                event_times,
                _records(keys),
                _records(requests),
                _records(features),
                predictions,
                strict=True,
            )
        ]
        if rows:
            self.db.insert(rows)
        return ids

    def log_shadow(
        self,
        *,
        request_id: str,
        version: int,
        prediction: dict[str, Any] | None,
        ms: float,
        error: str | None = None,
    ) -> None:
        """Commit a shadow version's answer to a served request (None and the error when it
        failed), and the milliseconds it took; a second answer of one version is skipped."""
        self.db.execute(
            "insert into shadows (request_id, version, logged_at, prediction, score, ms, error) "
            "values (?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
            (
                request_id,
                version,
                now_iso(),
                None if prediction is None else as_json(prediction),
                None if prediction is None else score_of(prediction),
                ms,
                error,
            ),
        )

    def read_shadows(self, version: int, since: str | None = None) -> pd.DataFrame:
        """A shadow version's answers beside what was served for the same requests (served
        prediction, score, version, event time and label), in the order the requests were
        logged."""
        where = " and p.logged_at >= ?" if since else ""
        query = (
            "select s.request_id, s.prediction as shadow_prediction, s.score as shadow_score,"
            " s.ms, s.error, p.version as served_version, p.prediction, p.score, p.label,"
            " p.event_time"
            " from shadows s join predictions p on p.request_id = s.request_id"
            f" where s.version = ?{where} order by p.logged_at, p.request_id"
        )
        args = (version, since_instant(since)) if since else (version,)
        return self.db.query(query, args)

    def read(
        self,
        since: str | None = None,
        *,
        version: int | None = None,
        labelled: bool = False,
        latest: int | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """Logged predictions in the order they were logged: those logged at or after an ISO
        time, of one model version, with a label, only the latest N, only some columns (a log
        of a million predictions is gigabytes once its features are read). Model inputs stay
        in `features` (JSON): features_of expands them."""
        where, args = self._where(since, version, labelled)
        # request ids begin with their microsecond: the order of a batch logged at one instant
        query = f"select {', '.join(columns) if columns else '*'} from predictions{where}"
        if latest is None:
            return self.db.query(query + " order by logged_at, request_id", args)
        query += " order by logged_at desc, request_id desc limit ?"
        newest = self.db.query(query, (*args, latest))
        return newest.iloc[::-1].reset_index(drop=True)

    def one(self, request_id: str) -> dict[str, Any] | None:
        """The logged prediction of one request id, or None."""
        found = self.db.query("select * from predictions where request_id = ?", (request_id,))
        return None if found.empty else found.iloc[0].to_dict()

    def event_range(self, version: int) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The first and the last event time of the requests a version answered, as UTC
        instants whatever offset they were logged with (None when it answered none with one)."""
        times = self.read(version=version, columns=["event_time"]).event_time.dropna()
        instants = pd.to_datetime(times, utc=True, format="ISO8601")
        return None if instants.empty else (instants.min(), instants.max())

    def count(self, since: str | None = None, *, version: int | None = None) -> int:
        """How many predictions read() would give without `latest`."""
        where, args = self._where(since, version, False)
        return int(self.db.scalar(f"select count(*) from predictions{where}", args))

    @staticmethod
    def _where(since: str | None, version: int | None, labelled: bool) -> tuple[str, tuple]:
        clauses, args = [], []
        if since:
            clauses.append("logged_at >= ?")
            args.append(since_instant(since))
        if version is not None:
            clauses.append("version = ?")
            args.append(version)
        if labelled:
            clauses.append("label is not null")
        return (" where " + " and ".join(clauses) if clauses else ""), tuple(args)

    def prune(self, before: str, chunk: int = PRUNE_CHUNK) -> int:
        """Delete the predictions logged before an ISO time; returns how many. In chunks, each
        its own transaction, so a running service's commits wait at most one chunk. The freed
        pages are reused by later predictions (vacuum() gives them back to the disk)."""
        deleted = 0
        while True:
            count = self.db.execute(
                "delete from predictions where request_id in (select request_id from "
                "predictions where logged_at < ? limit ?)",
                (before, chunk),
            )
            deleted += count
            if count < chunk:
                break
            time.sleep(PRUNE_PAUSE)  # the service's waiting commits get their turn
        self.db.execute("delete from shadows where logged_at < ?", (before,))
        self.db.after_prune()
        return deleted

    def vacuum(self) -> None:
        """Give the free space back to the disk (blocks writers while it runs)."""
        self.db.vacuum()

    def size(self) -> str:
        """The log's size on disk, as text."""
        return self.db.size()

    def add_labels(self, labels: pd.DataFrame, target: str, timezone: str = "UTC") -> int:
        """Attach true labels by request_id, or by every entity key plus the instant of
        event_time (every prediction served for those keys at that instant); returns how many
        logged predictions got one. A label's time may carry any
        offset, or none: a naive time is the dataset's local time (timezone), as in requests.
        A row whose label is blank (not known yet) labels nothing."""
        labels = labels[labels[target].notna()]
        update = "update predictions set label=? where request_id=?"
        if "request_id" in labels:
            ids = labels.request_id.astype(str)
            pairs = [(as_json(label), rid) for rid, label in zip(ids, labels[target], strict=True)]
            return self.db.execute_many(update, pairs) if pairs else 0
        if "event_time" not in labels:
            raise ValueError("labels: give request_id, or the entity keys and event_time")
        logged = self.db.query("select request_id, keys, event_time from predictions")
        keys = [c for c in labels.columns if c not in (target, "event_time")]
        index: dict[tuple, list[str]] = {}  # the same keys and instant may be served twice
        integer: set[str] = set()  # key columns logged as integers
        for rid, k, t in zip(
            logged.request_id, logged["keys"], instants(logged.event_time, "UTC"), strict=True
        ):
            found = json.loads(k)
            integer |= {c for c in keys if type(found.get(c)) is int}
            known = tuple(_key_text(found.get(c), False) for c in keys)
            index.setdefault((known, t), []).append(rid)
        times = instants(labels["event_time"], timezone)
        pairs = []
        for row, t in zip(labels.to_dict("records"), times, strict=True):
            key = (tuple(_key_text(row[c], c in integer) for c in keys), t)
            if None in key[0] or t is None:
                continue
            pairs += [(as_json(row[target]), rid) for rid in index.get(key, [])]
        return self.db.execute_many(update, pairs) if pairs else 0

    def close(self) -> None:
        self.db.close()
