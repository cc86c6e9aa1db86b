"""The next items' work is done in a forked process while the caller works on this one: results
come in order and from the child, errors come at their item with their type and the child's
traceback, a child that dies is said, a caller that stops early leaves no process behind, and a
process with other threads works in a thread instead of forking.

Each case runs in a new interpreter: a test runner's own threads (pytest-xdist's) would make
`forked_ahead` take its thread, rightly."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading

from mlrig.components.runtime.forked import PROCESS, THREAD, forked_ahead

UNTIL_ERROR = """
    def until_error(items, work):
        got = []
        try:
            with forked_ahead(items, work) as r:
                for v in r:
                    got.append(v)
        except BaseException as exc:
            return got, exc
        return got, None
"""


def _in_new_interpreter(body: str) -> dict:
    """Run body (which sets `result`) after importing forked_ahead; return result."""
    code = "import json, os, sys\nfrom mlrig.components.runtime.forked import *\n"
    code += (
        textwrap.dedent(UNTIL_ERROR)
        + textwrap.dedent(body)
        + "\nprint('RESULT=' + json.dumps(result))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT=")][-1]
    return json.loads(line.removeprefix("RESULT="))


def test_results_come_in_order_from_a_forked_process():
    result = _in_new_interpreter("""
        with forked_ahead(range(20), lambda n: (n * n, os.getpid()), in_child=lambda: None) as r:
            got = list(r)
        result = {"mode": r.mode, "values": [v for v, _ in got],
                  "child": all(pid != os.getpid() for _, pid in got)}
    """)
    assert result == {"mode": PROCESS, "values": [n * n for n in range(20)], "child": True}


def test_the_child_starts_on_entering_and_runs_in_child_first():
    result = _in_new_interpreter("""
        import tempfile, time, pathlib
        folder = pathlib.Path(tempfile.mkdtemp())
        def first():
            (folder / "in_child").write_text(str(os.getpid()))
        def work(n):
            (folder / f"item-{n}").write_text("")
            return n
        with forked_ahead(range(3), work, in_child=first) as r:
            deadline = time.time() + 30  # the caller has asked for nothing yet
            while not (folder / "item-0").exists() and time.time() < deadline:
                time.sleep(0.01)
            started = (folder / "item-0").exists()
            got = list(r)
        child = int((folder / "in_child").read_text())
        result = {"started": started, "got": got, "elsewhere": child != os.getpid()}
    """)
    assert result == {"started": True, "got": [0, 1, 2], "elsewhere": True}


def test_an_error_comes_at_its_item_with_its_type_and_the_childs_traceback():
    result = _in_new_interpreter("""
        class BadRow(ValueError):
            pass
        def work(n):
            if n == 2:
                raise BadRow("row 2: dest missing")
            return n
        got, exc = until_error(range(5), work)
        result = {"got": got, "type": type(exc).__name__, "error": str(exc),
                  "notes": exc.__notes__}
    """)
    assert result["got"] == [0, 1] and result["type"] == "BadRow"
    assert result["error"] == "row 2: dest missing"
    assert "in the checking process" in result["notes"][0] and "in work" in result["notes"][0]


def test_an_error_that_cannot_be_pickled_comes_as_a_runtime_error_naming_it():
    result = _in_new_interpreter("""
        import threading
        class Odd(Exception):
            def __init__(self):
                super().__init__("odd")
                self.lock = threading.Lock()  # locks do not pickle
        def work(n):
            raise Odd()
        _, exc = until_error(range(3), work)
        result = {"type": type(exc).__name__, "message": str(exc)}
    """)
    assert result == {"type": "RuntimeError", "message": "Odd: odd"}


def test_a_child_that_dies_is_said_not_waited_for():
    result = _in_new_interpreter("""
        import signal
        def work(n):
            if n == 1:
                os.kill(os.getpid(), signal.SIGKILL)
            return n
        got, exc = until_error(range(5), work)
        result = {"got": got, "type": type(exc).__name__, "error": str(exc)}
    """)
    assert result["got"] == [0] and result["type"] == "ChildLost"
    assert "killed by signal 9" in result["error"]


def test_a_caller_that_stops_early_leaves_no_process_behind():
    result = _in_new_interpreter("""
        def work(n):
            return os.getpid()
        with forked_ahead(range(1000), work) as r:
            child = next(iter(r))
        try:
            os.kill(child, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        result = {"alive": alive}
    """)
    assert result == {"alive": False}


def test_a_process_with_another_thread_works_in_a_thread_with_the_same_results():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        with forked_ahead(range(10), lambda n: n + 1) as results:
            assert results.mode == THREAD
            assert list(results) == list(range(1, 11))
        with forked_ahead(range(1000), lambda n: n) as results:
            held = iter(results)  # still referenced after the block, as a caller's may be
            assert next(held) == 0
        # left early, the thread is stopped on leaving, not when the results are collected
        assert not [t for t in threading.enumerate() if t.name == "mlrig-ahead"]
        assert list(held) == []
    finally:
        stop.set()
        other.join()
