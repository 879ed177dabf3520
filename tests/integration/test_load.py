"""Load, bounded to about a minute for `make test`: tens of WebSocket clients and hundreds
of messages through the session's stack; none lost, none delivered twice to a connection,
no error frames. `make soak` runs the full 500 clients and 10,000 messages (local/soak.py)."""

from __future__ import annotations

import asyncio

import pytest

from local.soak import SoakConfig, run_soak
from local.stack import Stack

pytestmark = pytest.mark.integration

BOUNDED = SoakConfig(
    clients=40, messages=120, rate=8, connections_per_user=4, channel_size=5, drain_s=30
)


def test_bounded_load_loses_nothing_and_delivers_each_message_once(stack: Stack) -> None:
    report = asyncio.run(run_soak(stack, BOUNDED, run="bounded"))
    print(f"\n{report.table()}")
    assert report.clients == BOUNDED.clients
    assert report.messages == report.acked == BOUNDED.messages, report.errors
    assert report.expected_deliveries == BOUNDED.messages * (5 * 4 - 1)
    assert (report.lost, report.duplicated, report.misdelivered) == (0, 0, 0)
    assert (report.error_frames, report.failed_sends) == (0, 0), report.errors
    assert report.ok
