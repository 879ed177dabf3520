"""Load, bounded to about a minute for `make test`: tens of WebSocket clients and hundreds
of messages through the session's stack; none lost, none delivered twice to a connection,
no error frames. `make soak` runs the full 500 clients and 10,000 messages (local/soak.py)."""

from __future__ import annotations

import asyncio
import math

import pytest

from local.soak import SoakConfig, devices_per_user, run_soak, search_url
from local.stack import Stack

pytestmark = pytest.mark.integration

# 32 users in 4 channels of 8; 4 of them on 3 devices: 40 connections.
BOUNDED = SoakConfig(
    clients=40, messages=200, rate=10, channel_size=8, multi_device_users=4, devices=3, drain_s=30
)


def _expected_deliveries(config: SoakConfig) -> int:
    """Senders take turns; each message reaches every connection of its channel but one."""
    devices = devices_per_user(config)
    channels = math.ceil(len(devices) / config.channel_size)
    connections = [sum(devices[u::channels]) for u in range(channels)]
    return sum(connections[(n % len(devices)) % channels] - 1 for n in range(config.messages))


def test_bounded_load_loses_nothing_and_delivers_each_message_once(stack: Stack) -> None:
    report = asyncio.run(run_soak(stack, BOUNDED, run="bounded"))
    print(f"\n{report.table()}")
    assert report.clients == BOUNDED.clients
    assert report.users == 32
    assert report.messages == report.acked == BOUNDED.messages, report.errors
    assert report.expected_deliveries == _expected_deliveries(BOUNDED)
    assert (report.lost, report.duplicated, report.misdelivered) == (0, 0, 0)
    assert (report.error_frames, report.failed_sends) == (0, 0), report.errors
    if search_url(stack) is not None:  # the stack runs search where the machine can
        assert report.indexed == report.acked
    assert report.ok
