"""Fan-out cost: DynamoDB requests per delivered message follow the channel, not the workspace."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.functional.conftest import RecordingPoster

WORKSPACE = "WFANOUT0001"


@contextmanager
def counted_requests() -> Iterator[Counter[str]]:
    """DynamoDB operations made through the shared client while the block runs."""
    from parley.adapters.dynamodb.base import botocore_client

    counts: Counter[str] = Counter()
    events = botocore_client().meta.events

    def count(model: Any, **_: Any) -> None:
        counts[model.name] += 1

    events.register("before-call.dynamodb.*", count)
    try:
        yield counts
    finally:
        events.unregister("before-call.dynamodb.*", count)


def seed(members: int, outside_connections: int) -> None:
    """A channel of `members` users, each with one live connection, in a workspace where
    `outside_connections` other users are connected too."""
    from parley.adapters.dynamodb import channels, connections
    from parley.adapters.dynamodb.items import ChannelMemberItem
    from parley.domain.records import ChannelRecord
    from parley.wiring import configured

    configured()
    channel = ChannelRecord(
        channelId="CFANOUT0001",
        workspaceId=WORKSPACE,
        name="big",
        type="public",
        createdBy="u0",
        createdAt="2026-01-01T00:00:00Z",
        memberCount=1,
    )
    channels.channel_item(channel).save()
    with ChannelMemberItem.batch_write() as batch:
        for i in range(members):
            member = channels.new_member(channel.channelId, WORKSPACE, f"u{i}", channel.createdAt)
            batch.save(member)
    for i in range(members):
        connections.register(f"conn-u{i}", f"u{i}", WORKSPACE, "2026-01-01T00:00:00Z", 2**31)
    for i in range(outside_connections):
        connections.register(f"conn-x{i}", f"x{i}", WORKSPACE, "2026-01-01T00:00:00Z", 2**31)


def requests_with_and_without_outsiders(
    poster: RecordingPoster, members: int, send: Callable[[int], object], delivered: int
) -> dict[str, int]:
    """The requests `send(run)` makes in a workspace with 0 and with 300 connections outside
    the channel (runs 0 and 1); they must be the same, and only the channel's members may
    hear it."""
    results = {}
    for run, outside in enumerate((0, 300)):
        seed(members, outside)
        poster.frames.clear()
        with counted_requests() as counts:
            send(run)
        assert len(poster.frames) == delivered
        assert not any(conn.startswith("conn-x") for conn in poster.frames)
        results[outside] = dict(counts)
    assert results[0] == results[300]
    assert "Scan" not in results[0]
    return results[0]


@pytest.mark.parametrize("members", [2, 50, 250])
def test_requests_per_message_are_bounded_by_members_and_blind_to_outsiders(
    poster: RecordingPoster, members: int
) -> None:
    from parley import wiring

    counts = requests_with_and_without_outsiders(
        poster,
        members,
        lambda _: wiring.broadcaster().to_channel(
            WORKSPACE, "CFANOUT0001", {"type": "message", "text": "x"}
        ),
        delivered=members,
    )
    assert sum(counts.values()) <= 1 + math.ceil(members / 100) + math.ceil(members / 1000)


@pytest.mark.parametrize("members", [2, 50, 250])
def test_a_whole_post_stays_within_the_issue_budget_for_every_workspace_size(
    poster: RecordingPoster, members: int
) -> None:
    """Access check, write and fan-out together: 2 + ceil(M/100) + ceil(M/1000) requests."""
    from parley import wiring
    from parley.domain.caller import Caller
    from parley.domain.messages import post_message
    from parley.edge.schemas import PostMessage

    counts = requests_with_and_without_outsiders(
        poster,
        members,
        # Another sender each run, as people typing: a burst from one sender costs the rate
        # limiter a second write (docs/decisions.md), which is not what this counts.
        lambda run: post_message(
            Caller(f"u{run}", connection_id=f"conn-u{run}"),
            "CFANOUT0001",
            PostMessage(text="hello"),
            wiring.broadcaster(),
        ),
        delivered=members - 1,  # everyone but the sender's connection
    )
    assert sum(counts.values()) <= 2 + math.ceil(members / 100) + math.ceil(members / 1000), counts


def test_a_post_makes_its_independent_requests_side_by_side(poster: RecordingPoster) -> None:
    """The audience and the rate limit, then the put and the connections, each pair on two
    threads at once: a post waits on two round trips, not four. (The second of two quick
    posts, whose rate limit is counted in the table: the first is quiet.)"""
    import threading

    from parley import wiring
    from parley.adapters.dynamodb.base import botocore_client
    from parley.domain.caller import Caller
    from parley.domain.messages import post_message
    from parley.edge.schemas import PostMessage

    seed(5, 0)
    threads: dict[str, int] = {}

    def record(model: Any, **_: Any) -> None:
        threads[model.name] = threading.get_ident()

    def send() -> None:
        post_message(
            Caller("u1", connection_id="conn-u1"),
            "CFANOUT0001",
            PostMessage(text="hello"),
            wiring.broadcaster(),
        )

    send()
    events = botocore_client().meta.events
    events.register("before-call.dynamodb.*", record)
    try:
        post_message(
            Caller("u1", connection_id="conn-u1"),
            "CFANOUT0001",
            PostMessage(text="hello"),
            wiring.broadcaster(),
        )
    finally:
        events.unregister("before-call.dynamodb.*", record)
    assert set(threads) == {"Query", "UpdateItem", "PutItem", "BatchGetItem"}
    assert threads["Query"] != threads["UpdateItem"]
    assert threads["PutItem"] != threads["BatchGetItem"]
    assert len(poster.frames) == 4
