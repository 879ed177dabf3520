"""The search benchmark runs end to end in a tiny configuration against its own local stack
and OpenSearch node, so that it cannot rot unnoticed; `make bench` runs it at full size."""

from __future__ import annotations

import pytest

from bench import search
from local.search_node import find_toolchain

pytestmark = pytest.mark.integration


@pytest.mark.skipif(find_toolchain() is None, reason="no JDK or Maven: no local OpenSearch")
def test_tiny_search_run_reports_lag_throughput_and_query_latency() -> None:
    result = search.run(messages=200, lag_samples=2, queries=10)
    assert set(result) >= {"messages", "lagP50Ms", "lagP99Ms", "bulkDocsPerS", "queryP50Ms"}
    assert "queryP99Ms" in result  # issue 9's keys for latest.json
    assert result["indexLag"]["samples"] == 2  # both posted messages were found
    assert isinstance(result["searchesUnavailable"], int)
    assert result["query"]["samples"] == 10
    assert result["bulkMessagesPerS"] > 0
    assert result["baselineRoundTrip"]["p50Ms"] is not None
    assert "| index lag (post → searchable) |" in search.table(result)
