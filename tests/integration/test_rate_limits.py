"""The send limit through the real gateways: 429 with Retry-After on HTTP, an error frame
with retryAfter on the WebSocket, and nothing stored or delivered for the refused message.

Reaching 50 messages within 5 s from one client is out of a sequential test's reach on the
local stack, so the sender's bucket is staged full (its GCRA item set as a flood leaves it),
as the unit tests of the limiter show a flood does; the rest is the real path. A person's
message that comes a second or more after their previous one passes the quiet tier without
reading the bucket (parley.domain.ratelimits), so the tests send until one is refused: the
first may pass, the next, following it within a second, meets the full bucket.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import requests

from local.stack import Stack
from tests.integration import test_messaging

pytestmark = pytest.mark.integration

team = test_messaging.team


ATTEMPTS = 5


async def _reply(socket: Any, frame_id: str) -> dict[str, Any]:
    """The ack or the error frame that answers `frame_id`."""
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(socket.ws.recv(), 10))
        socket.seen.append(frame)
        if frame.get("replyTo") == frame_id:
            return frame


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
    passed = 0
    for _ in range(ATTEMPTS):
        reply = requests.post(
            f"{stack.http_url}/channels/{general}/messages",
            json={"text": "one too many"},
            headers={"authorization": f"Bearer {alice.token}"},
            timeout=30,
        )
        if reply.status_code != 201:
            break
        passed += 1
    assert reply.status_code == 429, f"{ATTEMPTS} messages to a full bucket and no 429"
    assert reply.headers["Retry-After"] == "1"
    assert reply.json()["error"]["code"] == "rate_limited"
    assert reply.json()["error"]["retryAfter"] == 1
    _, history = alice.call("GET", f"/channels/{general}/messages")
    assert [m["text"] for m in history["messages"]].count("one too many") == passed
    # Others in the same channel are not limited by Alice's bucket.
    assert team["bob"].call("POST", f"/channels/{general}/messages", {"text": "fine"})[0] == 201


def test_a_full_bucket_answers_an_error_frame_and_the_connection_stays_open(
    stack: Stack, team: dict[str, Any]
) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]

    async def scenario() -> None:
        async with alice.socket(wid) as a, bob.socket(wid) as b:
            _fill_bucket(stack, alice.id, general)
            for attempt in range(ATTEMPTS):
                frame_id = f"r{attempt}"
                text = f"flood {attempt}"
                frame = {"action": "sendMessage", "id": frame_id, "channelId": general}
                await a.send({**frame, "text": text})
                reply = await _reply(a, frame_id)
                if reply["type"] == "error":
                    break
            refused = reply
            assert refused["type"] == "error", f"{ATTEMPTS} sends to a full bucket, no error"
            assert refused["error"]["retryAfter"] == 1
            await a.send({"action": "ping", "id": "p1"})
            await a.next("pong", replyTo="p1")  # still open
            seen = [f["message"]["text"] for f in await b.quiet(1.0) if f.get("type") == "message"]
            assert text not in seen

    asyncio.run(scenario())
