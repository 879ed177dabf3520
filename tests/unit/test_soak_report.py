"""The soak's verdict and its search check, without a stack (the runs themselves are
tests/integration/test_load.py and `make soak`)."""

from __future__ import annotations

import pytest

from local import soak
from parley.search.mapping import READ_ALIAS


def _clean_run(**fields: object) -> soak.SoakReport:
    report = soak.SoakReport(messages=200, acked=200, expected_deliveries=1800, delivered=1800)
    for name, value in fields.items():
        setattr(report, name, value)
    return report


def test_the_soak_counts_what_search_reads() -> None:
    assert soak.SEARCH_ALIAS == READ_ALIAS


def test_without_search_the_verdict_is_the_deliveries() -> None:
    report = _clean_run()
    assert report.ok
    assert "indexed" not in report.table()


def test_a_message_missing_from_the_index_fails_the_soak() -> None:
    assert _clean_run(indexed=200, index_wait_s=2.5).ok
    short = _clean_run(indexed=199, index_wait_s=120.0)
    assert not short.ok
    assert "indexed for search             199 of 200 (120.0 s after the drain)" in short.table()
    assert short.table().endswith("FAIL")


def test_the_index_is_awaited_until_it_holds_every_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counts = iter([0, 150, 200, 200])
    monkeypatch.setattr(soak, "indexed_messages", lambda url, wid: next(counts))
    monkeypatch.setattr(soak.time, "sleep", lambda seconds: None)
    assert soak._await_index("http://search", "W1", 200, wait_s=60) == 200
    assert next(counts) == 200  # it stopped at the first full count


def test_the_wait_for_the_index_gives_up_with_the_last_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(soak, "indexed_messages", lambda url, wid: 120)
    assert soak._await_index("http://search", "W1", 200, wait_s=0) == 120
