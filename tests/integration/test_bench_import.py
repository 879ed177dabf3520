"""The import benchmark runs end to end in a tiny configuration against its own local
stack, so that it cannot rot unnoticed; `make bench` runs it at 100,000 messages."""

from __future__ import annotations

import pytest

from bench import imports

pytestmark = pytest.mark.integration


def test_tiny_import_run_reports_the_rate_the_baseline_and_the_peak() -> None:
    result = imports.run(messages=400, days=2, timeout_s=120)
    assert set(result) >= {"messages", "messagesPerS", "baselineMessagesPerS", "ratio", "peakRssMb"}
    assert result["messages"] == 400  # every message and reply of the export, none twice
    assert result["counts"]["replies"] > 0
    assert result["counts"]["reactions"] > 0
    assert result["ratio"] == pytest.approx(
        result["messagesPerS"] / result["baselineMessagesPerS"], rel=0.01
    )
    assert result["items"] >= result["messages"]  # the baseline writes what the import wrote
    assert (result["peakRssMb"] or 0) > 10  # a worker was found and read
    assert "| messages | zip MB |" in imports.table(result)
