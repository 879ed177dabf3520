"""The delivery benchmark runs end to end in a tiny configuration against its own local
stack, so that it cannot rot unnoticed; `make bench` runs it at full size."""

from __future__ import annotations

import pytest

from bench import delivery

pytestmark = pytest.mark.integration


def test_tiny_delivery_run_reports_parley_and_the_baseline() -> None:
    result = delivery.run(clients=6, channels=2, rate_per_s=10, seconds=1)
    for key in ("clients", "ratePerS", "seconds", "p50Ms", "p95Ms", "p99Ms", "lost"):
        assert key in result
    assert "baselineP99Ms" in result
    # three users a channel: each message has two receivers, and none may be lost
    assert result["parley"]["expected"] == 20
    assert result["lost"] == 0
    assert result["baselineLost"] == 0
    assert "| path |" in delivery.table(result)
