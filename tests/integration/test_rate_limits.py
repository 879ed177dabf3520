"""The send limit through the real gateways: 429 with Retry-After on HTTP, an error frame
with retryAfter on the WebSocket, and nothing stored or delivered for the refused message.

Reaching 50 messages within 5 s from one client is out of a sequential test's reach on the
local stack, so the sender's bucket is staged full (its GCRA item set as a flood leaves it),
as the unit tests of the limiter show a flood does; the rest is the real path.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import requests

from local.stack import Stack
from tests.integration import test_messaging

pytestmark = pytest.mark.integration

team = test_messaging.team


def _fill_bucket(stack: Stack, user_id: str, channel_id: str) -> None:
    """The sender's theoretical arrival time well past a whole burst ahead (5 s), so that the
    next send is refused however long it takes to arrive on a busy machine."""
    assert stack.aws is not None
    ahead = int((time.time() + 30.0) * 1_000_000)
    stack.aws("dynamodb").put_item(
        TableName="parley-local-AppTable",
        Item={
            "PK": {"S": f"RATE#{user_id}#{channel_id}"},
            "SK": {"S": "RATE"},
            "tatMicros": {"N": str(ahead)},
            "ttl": {"N": str(int(time.time()) + 60)},
        },
    )


def test_a_full_bucket_answers_429_with_retry_after_and_stores_nothing(
    stack: Stack, team: dict[str, Any]
) -> None:
    alice, general = team["alice"], team["general"]
    _fill_bucket(stack, alice.id, general)
    reply = requests.post(
        f"{stack.http_url}/channels/{general}/messages",
        json={"text": "one too many"},
        headers={"authorization": f"Bearer {alice.token}"},
        timeout=30,
    )
    assert reply.status_code == 429
    assert reply.headers["Retry-After"] == "1"
    assert reply.json()["error"]["code"] == "rate_limited"
    assert reply.json()["error"]["retryAfter"] == 1
    _, history = alice.call("GET", f"/channels/{general}/messages")
    assert "one too many" not in [m["text"] for m in history["messages"]]
    # Others in the same channel are not limited by Alice's bucket.
    assert team["bob"].call("POST", f"/channels/{general}/messages", {"text": "fine"})[0] == 201


def test_a_full_bucket_answers_an_error_frame_and_the_connection_stays_open(
    stack: Stack, team: dict[str, Any]
) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]

    async def scenario() -> None:
        async with alice.socket(wid) as a, bob.socket(wid) as b:
            _fill_bucket(stack, alice.id, general)
            frame = {"action": "sendMessage", "id": "r1", "channelId": general, "text": "flood"}
            await a.send(frame)
            refused = await a.next("error", replyTo="r1")
            assert refused["error"]["code"] == "rate_limited"
            assert refused["error"]["retryAfter"] == 1
            await a.send({"action": "ping", "id": "p1"})
            await a.next("pong", replyTo="p1")  # still open
            assert [f for f in await b.quiet(1.0) if f.get("type") == "message"] == []

    asyncio.run(scenario())
