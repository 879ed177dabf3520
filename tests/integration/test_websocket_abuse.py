"""WebSocket abuse on the local stack: frames no client should send, and floods of them.

Each abusive frame gets an `error` frame (or API Gateway's own behaviour: a frame over
32 KB closes the connection with 1009, see test_messaging.py), never a function crash
(API Gateway's `Internal server error` frame); the abuser's connection stays usable, and
everyone else is served during and after. Malformed JSON and unknown actions are covered
in test_messaging.py; this file adds binary, empty and deeply nested frames and floods.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.integration import test_messaging
from tests.integration.test_messaging import Socket

team = test_messaging.team  # the fixture: Alice's workspace with Bob and Carol

pytestmark = pytest.mark.integration

DEPTH = 10_000  # far past any JSON parser's recursion limit, yet 20 KB: under 32 KB


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


ABUSIVE_FRAMES: list[tuple[str, str | bytes]] = [
    ("binary garbage", b"\x00\xff\xfe\x80"),
    ("binary JSON", json.dumps({"action": "ping", "id": "b1"}).encode()),
    ("empty text", ""),
    ("empty binary", b""),
    ("whitespace", " \n\t "),
    ("deeply nested array", _nested(DEPTH)),
    ("deeply nested object", '{"a":' * (DEPTH // 2) + "1" + "}" * (DEPTH // 2)),  # 30 KB
    # Route selection cannot read the action of a frame this deep: $default answers.
    ("nested under a known action", '{"action":"ping","id":"n1","x":' + _nested(DEPTH) + "}"),
    (
        "nested in a message",
        '{"action":"sendMessage","id":"n2","channelId":"C1","text":"hi","x":'
        + _nested(DEPTH)
        + "}",
    ),
    ("a number", "12345678901234567890e999999"),
    ("a string", json.dumps("ping")),
    ("null action", json.dumps({"action": None, "id": "a1"})),
    ("object action", json.dumps({"action": {"$default": 1}, "id": "a2"})),
    ("route key as action", json.dumps({"action": "$connect", "id": "a3"})),
    ("invalid UTF-8 id", b'{"action":"ping","id":"\xff"}'),
]


async def _bystanders_talk(team: dict[str, Any], b: Socket, c: Socket, tag: str) -> None:
    """Bob sends to general over his socket; Carol receives it."""
    await b.send({"action": "sendMessage", "id": tag, "channelId": team["general"], "text": tag})
    await b.next("ack", replyTo=tag, timeout=20)
    await c.next("message", timeout=20, channelId=team["general"])


def test_abusive_frames_get_error_frames_and_others_are_still_served(
    team: dict[str, Any],
) -> None:
    alice, bob, carol, wid = team["alice"], team["bob"], team["carol"], team["wid"]

    async def scenario() -> None:
        async with alice.socket(wid) as a, bob.socket(wid) as b, carol.socket(wid) as c:
            for label, frame in ABUSIVE_FRAMES:
                await a.send(frame)
                reply = await a.next("error", timeout=20)
                assert reply["error"]["code"] == "invalid_request", (label, reply)
                assert set(reply) <= {"type", "replyTo", "error"}, (label, reply)
            crashed = [f for f in a.seen if "Internal server error" in json.dumps(f)]
            assert crashed == []
            await _bystanders_talk(team, b, c, "during")
            await a.send({"action": "ping", "id": "still-here"})
            await a.next("pong", replyTo="still-here")

    asyncio.run(scenario())


def test_a_flood_from_one_client_is_answered_and_others_are_served(
    team: dict[str, Any],
) -> None:
    alice, bob, carol, wid = team["alice"], team["bob"], team["carol"], team["wid"]
    flood = 300

    async def scenario() -> None:
        async with alice.socket(wid) as a, bob.socket(wid) as b, carol.socket(wid) as c:
            frames = [
                {"action": "ping", "id": f"p{i}"} if i % 3 else "{not json" for i in range(flood)
            ]
            await asyncio.gather(*(a.send(f) for f in frames))
            await _bystanders_talk(team, b, c, "mid-flood")
            # Alice is in general too: Bob's messages reach her between the replies.
            replies = [f for f in a.seen if f.get("type") != "message"]
            while len(replies) < flood:
                frame = json.loads(await asyncio.wait_for(a.ws.recv(), 60))
                if frame.get("type") != "message":
                    replies.append(frame)
            kinds = {r.get("type") for r in replies}
            assert kinds <= {"pong", "error"}, kinds
            pongs = {r["replyTo"] for r in replies if r["type"] == "pong"}
            assert pongs == {f"p{i}" for i in range(flood) if i % 3}
            errors = [r for r in replies if r["type"] == "error"]
            assert {e["error"]["code"] for e in errors} == {"invalid_request"}
            await _bystanders_talk(team, b, c, "after-flood")

    asyncio.run(scenario())
