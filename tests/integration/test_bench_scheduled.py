"""The scheduled messages' lateness benchmark runs end to end, tiny, on its own local stack,
so that it cannot rot unnoticed; `make bench` runs it with 200 schedules."""

from __future__ import annotations

import pytest

from bench import scheduled

pytestmark = pytest.mark.integration


def test_tiny_run_posts_every_schedule_and_reports_its_lateness() -> None:
    result = scheduled.run(count=10, channels=2, spread_s=2.0, poll_s=0.5, timeout_s=90)
    assert result["count"] == 10
    assert (result["pendingBefore"], result["pendingAfter"]) == (10, 0)  # all posted, once
    # Never early; late by the poll period and the invocation, not by minutes.
    assert 0 <= result["lateMinMs"] <= result["lateP50Ms"] <= result["lateP99Ms"]
    assert result["lateMaxMs"] < 30_000
    assert result["p50OverPoll"] == pytest.approx(result["lateP50Ms"] / 500, abs=0.01)
    assert "| scheduled | poll ms |" in scheduled.table(result)
