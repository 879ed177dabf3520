"""The delivery benchmark's CPU accounting: descendants are found and grouped by what they run."""

from __future__ import annotations

import subprocess
import sys

from bench import cpu

_BUSY = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"


def test_a_busy_child_is_counted_in_its_group() -> None:
    # The child's command line names worker_main.py, as the stack's function workers do.
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _BUSY + "time.sleep(5)  # worker_main.py"],
    )
    try:
        while cpu.snapshot()["functions"] < 0.25:  # it burns 0.3 s, then sleeps
            if child.poll() is not None:
                raise AssertionError("the child exited before it was measured")
    finally:
        child.kill()
        child.wait()


def test_per_unit_ms_divides_what_each_group_spent() -> None:
    before = {"moto": 1.0, "functions": 2.0}
    after = {"moto": 1.5, "functions": 2.0, "gateway and clients": 0.25}
    assert cpu.per_unit_ms(before, after, 50) == {"gateway and clients": 5.0, "moto": 10.0}
    assert cpu.per_unit_ms(before, after, 0) == {}
