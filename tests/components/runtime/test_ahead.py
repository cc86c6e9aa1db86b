"""The next item's work is done in a thread while the caller works on this one: results come in
order, errors come at their item, and a caller that stops early stops the thread."""

from __future__ import annotations

import threading

import pytest

from mlrig.components.runtime.ahead import ahead


def _ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "mlrig-ahead"]


def test_results_come_in_the_items_order():
    assert list(ahead(range(50), lambda n: n * n)) == [n * n for n in range(50)]


def test_the_next_items_work_is_done_while_the_caller_holds_this_one():
    started = {n: threading.Event() for n in range(3)}

    def work(n: int) -> int:
        started[n].set()
        return n

    results = ahead(range(3), work)
    assert next(results) == 0
    # the caller has not asked for item 1, and its work has begun (in the other thread)
    assert started[1].wait(timeout=10)
    assert list(results) == [1, 2]


def test_an_error_in_the_work_comes_at_its_item_after_the_ones_before_it():
    def work(n: int) -> int:
        if n == 2:
            raise ValueError("item 2 is bad")
        return n

    got = []
    with pytest.raises(ValueError, match="item 2 is bad"):
        for value in ahead(range(5), work):
            got.append(value)
    assert got == [0, 1]
    assert not _ahead_threads()


def test_an_error_reading_the_items_comes_to_the_caller():
    def items():
        yield 1
        raise OSError("the file went away")

    with pytest.raises(OSError, match="the file went away"):
        list(ahead(items(), lambda n: n))


def test_a_caller_that_stops_early_stops_the_thread_after_a_few_items():
    done = []

    def work(n: int) -> int:
        done.append(n)
        return n

    results = ahead(range(1_000), work, depth=2)
    assert next(results) == 0
    results.close()  # the caller leaves the loop
    assert not _ahead_threads()
    assert len(done) <= 2 + 2  # the one handed over, the queue's two, the one under way


def test_a_depth_below_one_is_refused():
    with pytest.raises(ValueError, match="depth: at least one item ahead, not 0"):
        list(ahead([1], lambda n: n, depth=0))
