"""`parley.concurrency.both`: two calls at once, results and errors in a fixed order."""

from __future__ import annotations

import threading
import time

import pytest

from parley.concurrency import both


def test_both_calls_run_at_once_and_return_in_order() -> None:
    # Each waits for the other to start: run one after the other, they would time out.
    barrier = threading.Barrier(2, timeout=5)
    assert both(lambda: (barrier.wait(), "a")[1], lambda: (barrier.wait(), "b")[1]) == ("a", "b")


def test_the_first_calls_error_wins_and_the_second_has_finished_by_then() -> None:
    finished = threading.Event()

    def slow_failure() -> None:
        time.sleep(0.05)
        finished.set()
        raise KeyError("second")

    def first() -> None:
        raise LookupError("first")

    with pytest.raises(LookupError, match="first"):
        both(first, slow_failure)
    assert finished.is_set()


def test_the_second_calls_error_is_raised_when_the_first_succeeds() -> None:
    with pytest.raises(KeyError, match="second"):
        both(lambda: "a", lambda: (_ for _ in ()).throw(KeyError("second")))
