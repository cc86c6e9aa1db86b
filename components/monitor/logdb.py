"""The databases a prediction log lives in: a SQLite file (one machine: WAL, one writer at a time)
or PostgreSQL (many replicas writing at once, as the cluster profile deploys it).

Both take the same SQL, written with `?` placeholders, and run each statement in autocommit unless
it is part of `execute_many`'s one transaction. A statement that returns means its rows are
committed (PostgreSQL's synchronous_commit is on by default: flushed to its WAL)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

T = TypeVar("T")

# what a prediction is logged with (its label comes later); a shadow version's answer to the same
# request goes to `shadows`, beside it (serving/shadow.py), never among the served predictions
INSERTED = (
    "request_id",
    "logged_at",
    "event_time",
    "model",
    "version",
    "keys",
    "request",
    "features",
    "prediction",
    "score",
)
SQLITE_SCHEMA = """
create table if not exists predictions (
  request_id text primary key, logged_at text not null, event_time text, model text,
  version integer, keys text, request text, features text, prediction text, score real,
  label text
);
create index if not exists predictions_logged_at on predictions (logged_at);
create table if not exists shadows (
  request_id text not null, version integer not null, logged_at text not null,
  prediction text, score real, ms real, error text, primary key (request_id, version)
);
"""
# logged_at is ISO text in UTC to the microsecond: compared byte by byte ("C"), as in SQLite
POSTGRES_SCHEMA = (
    "create table if not exists predictions (request_id text primary key, logged_at text collate"
    ' "C" not null, event_time text, model text, version integer, keys text, request text,'
    " features text, prediction text, score double precision, label text)",
    "create index if not exists predictions_logged_at on predictions (logged_at)",
    "create table if not exists shadows (request_id text not null, version integer not null,"
    ' logged_at text collate "C" not null, prediction text, score double precision,'
    " ms double precision, error text, primary key (request_id, version))",
)
# two replicas starting at once would both create the table: one waits for the other
SCHEMA_LOCK = 7_412_093


class LogUnavailable(RuntimeError):
    """The log's database cannot be reached or refused a write: nothing was committed."""


SQLITE_WAIT_S = 30.0


def _set_up(con: sqlite3.Connection, wait_s: float = SQLITE_WAIT_S) -> None:
    """WAL and the tables. Workers of one service open the file at once, and SQLite answers
    "locked" at once, without waiting, to a journal-mode change while another connection is
    creating the tables: tried again until wait_s has passed (a log given up here would leave
    that worker's answers unlogged)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            if con.execute("pragma journal_mode").fetchone()[0] != "wal":
                con.execute("pragma journal_mode=wal")
            con.execute("pragma synchronous=normal")
            con.executescript(SQLITE_SCHEMA)
            return
        except sqlite3.OperationalError as exc:
            primary = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # extended codes: the low byte
            busy = primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class SqliteDb:
    """One SQLite file, shared by the threads of a process."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=SQLITE_WAIT_S
        )
        _set_up(self._con)
        self._lock = threading.Lock()

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        with self._lock:
            return self._con.execute(sql, args).rowcount

    def execute_many(self, sql: str, rows: list[Sequence[Any]]) -> int:
        with self._lock:
            self._con.execute("begin")
            try:
                count = self._con.executemany(sql, rows).rowcount
            except BaseException:
                self._con.execute("rollback")
                raise
            self._con.execute("commit")
            return count

    def insert(self, rows: list[Sequence[Any]]) -> None:
        """Every row in one transaction (one row: one statement, autocommitted)."""
        marks = ",".join("?" * len(INSERTED))
        sql = f"insert into predictions ({', '.join(INSERTED)}) values ({marks})"
        if len(rows) == 1:
            self.execute(sql, rows[0])
        else:
            self.execute_many(sql, rows)

    def query(self, sql: str, args: Sequence[Any] = ()) -> pd.DataFrame:
        with self._lock:
            return pd.read_sql_query(sql, self._con, params=tuple(args))

    def scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        with self._lock:
            return self._con.execute(sql, args).fetchone()[0]

    def after_prune(self) -> None:
        with self._lock:
            self._con.execute("pragma wal_checkpoint(truncate)")

    def vacuum(self) -> None:
        with self._lock:
            self._con.execute("vacuum")

    def size(self) -> str:
        return f"{self.path.stat().st_size / 1e6:.1f} MB" if self.path.exists() else "no log yet"

    def close(self) -> None:
        with self._lock:
            self._con.close()


class PostgresDb:
    """A PostgreSQL database of its own (the cluster profile: role and database `predictions`).
    A dropped connection is opened again once per statement; every write is idempotent
    (inserts skip a request id already there), so a retried write never doubles a row."""

    CONNECT_TIMEOUT_S = 3  # a down database is a fast 503, not a hung request
    STATEMENT_TIMEOUT_MS = 10_000

    def __init__(self, url: str) -> None:
        from mlrig.components.config import env

        self.url = url.replace("postgresql+psycopg2://", "postgresql://", 1)
        self.where = env.mask(self.url)
        self._lock = threading.Lock()
        self._con: Any = None

    def check(self) -> None:
        """Connect now (raises LogUnavailable): a wrong URL or password is said at start."""
        self._run(lambda cur: None)

    def _connect(self) -> Any:
        import psycopg2

        from mlrig.components.config import env

        con = psycopg2.connect(
            env.resolve(self.url),
            connect_timeout=self.CONNECT_TIMEOUT_S,
            options=f"-c statement_timeout={self.STATEMENT_TIMEOUT_MS}",
            application_name="mlrig",
        )
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("begin")
            cur.execute("select pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            for statement in POSTGRES_SCHEMA:
                cur.execute(statement)
            cur.execute("commit")
        return con

    def _run(self, work: Callable[[Any], T]) -> T:
        """work(cursor) on a live connection: reconnects once if the connection was lost."""
        import psycopg2

        from mlrig.components.config.env import SecretMissing

        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._con is None or self._con.closed:
                        self._con = self._connect()
                    with self._con.cursor() as cur:
                        return work(cur)
                except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                    self._drop()
                    if attempt == 2:
                        raise LogUnavailable(
                            f"prediction log unavailable ({self.where}): {str(exc).strip()}"
                        ) from None
                except SecretMissing as exc:
                    raise LogUnavailable(
                        f"prediction log unavailable ({self.where}): {exc}"
                    ) from None
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._con is not None:
            with contextlib.suppress(Exception):  # already broken: nothing left to close
                self._con.close()
        self._con = None

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        def work(cur: Any) -> int:
            cur.execute(self._sql(sql), tuple(args))
            return cur.rowcount

        return self._run(work)

    def execute_many(self, sql: str, rows: list[Sequence[Any]]) -> int:
        def work(cur: Any) -> int:
            cur.execute("begin")
            try:
                count = 0
                for row in rows:
                    cur.execute(self._sql(sql), tuple(row))
                    count += cur.rowcount
            except BaseException:
                cur.execute("rollback")
                raise
            cur.execute("commit")
            return count

        return self._run(work)

    def insert(self, rows: list[Sequence[Any]]) -> None:
        """One transaction, 1,000 rows a statement; a request id already logged (a write retried
        after its connection dropped) is skipped."""
        from psycopg2.extras import execute_values

        sql = f"insert into predictions ({', '.join(INSERTED)}) values %s on conflict do nothing"

        def work(cur: Any) -> None:
            cur.execute("begin")
            try:
                execute_values(cur, sql, rows, page_size=1000)
            except BaseException:
                cur.execute("rollback")
                raise
            cur.execute("commit")

        self._run(work)

    def query(self, sql: str, args: Sequence[Any] = ()) -> pd.DataFrame:
        def work(cur: Any) -> pd.DataFrame:
            cur.execute(self._sql(sql), tuple(args))
            names = [d[0] for d in cur.description]
            return pd.DataFrame.from_records(cur.fetchall(), columns=names)

        return self._run(work)

    def scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        def work(cur: Any) -> Any:
            cur.execute(self._sql(sql), tuple(args))
            return cur.fetchone()[0]

        return self._run(work)

    def after_prune(self) -> None:
        """Nothing: autovacuum reclaims the deleted rows' space for new ones."""

    def vacuum(self) -> None:
        self.execute("vacuum full predictions")

    def size(self) -> str:
        size = self.scalar("select pg_total_relation_size('predictions')")
        return f"{size / 1e6:.1f} MB"

    def close(self) -> None:
        with self._lock:
            self._drop()


def open_db(location: str | Path, connect: bool = True) -> SqliteDb | PostgresDb:
    """A postgresql:// URL (connected now unless connect is False: the first statement connects),
    else a SQLite file's path."""
    text = str(location)
    if not text.startswith(("postgresql://", "postgresql+psycopg2://")):
        return SqliteDb(location)
    db = PostgresDb(text)
    if connect:
        db.check()
    return db
