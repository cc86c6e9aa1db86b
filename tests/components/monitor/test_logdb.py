"""A SQLite prediction log opened while another worker of the service is still creating it."""

from __future__ import annotations

import sqlite3
import threading
import time

from mlrig.components.monitor.logdb import SqliteDb


def test_a_worker_opening_the_log_while_another_creates_it_waits_and_logs(tmp_path):
    """SQLite answers "locked" at once (no busy wait) to a journal-mode change while another
    connection writes in rollback mode, as the first worker does when it creates the file: the
    second worker's log was disabled, and its answers went unlogged."""
    path = tmp_path / "predictions.db"
    first = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    first.execute("begin immediate")
    first.execute("create table creating (x)")
    done = threading.Timer(1.0, lambda: first.execute("commit"))
    done.start()
    started = time.monotonic()
    second = SqliteDb(path)
    waited = time.monotonic() - started
    done.join()
    second.insert([("r1", "2024-01-01T00:00:00+00:00", None, "m", 1, "{}", "{}", "{}", "1", 0.5)])
    assert second.scalar("select count(*) from predictions") == 1
    assert waited >= 0.9  # it waited for the first worker, and did not fail
    assert second.scalar("pragma journal_mode") == "wal"
    second.close()
    first.close()
