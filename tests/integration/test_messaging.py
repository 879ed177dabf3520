"""Parley end to end on the local stack: real HTTP, real WebSockets, the real functions.

Each test makes its own users and workspace, so tests share the session's stack safely.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import requests
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from local.stack import Stack

pytestmark = pytest.mark.integration

_names = itertools.count()


class User:
    """A logged-in user speaking to the HTTP API."""

    def __init__(self, stack: Stack, name: str) -> None:
        self.stack = stack
        self.token = stack.login(name).id_token
        self.id = self.call("GET", "/me")[1]["user"]["id"]

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        reply = requests.request(
            method,
            f"{self.stack.http_url}{path}",
            json=body,
            headers={"authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        return reply.status_code, reply.json() if reply.content else None

    @asynccontextmanager
    async def socket(self, workspace_id: str) -> AsyncIterator[Socket]:
        url = f"{self.stack.ws_url}?token={self.token}&workspaceId={workspace_id}"
        async with connect(url, proxy=None) as ws:
            yield Socket(ws)


class Socket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def send(self, frame: Any) -> None:
        await self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def next(self, kind: str, timeout: float = 10, **match: Any) -> dict[str, Any]:
        """The next frame of this type (and these fields), keeping the others in `seen`."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind} {match} within {timeout}s; saw {self.seen}")
            try:
                frame = json.loads(await asyncio.wait_for(self.ws.recv(), remaining))
            except TimeoutError:
                continue
            self.seen.append(frame)
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame  # type: ignore[no-any-return]  # the frame is JSON

    async def quiet(self, seconds: float = 1.0) -> list[dict[str, Any]]:
        """Every frame that arrives within `seconds`."""
        frames = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                frames.append(json.loads(await asyncio.wait_for(self.ws.recv(), remaining)))
            except TimeoutError:
                break
        return frames


@pytest.fixture
def team(stack: Stack) -> dict[str, Any]:
    """Alice's new workspace with Bob and Carol in it; `general` joined by all three."""
    return make_team(stack)


def make_team(stack: Stack) -> dict[str, Any]:
    n = next(_names)
    alice, bob, carol = (User(stack, f"{who}{n}") for who in ("alice", "bob", "carol"))
    status, created = alice.call("POST", "/workspaces", {"name": f"Team {n}"})
    assert status == 201, created
    wid = created["workspace"]["id"]
    _, invite = alice.call("POST", f"/workspaces/{wid}/invites")
    for user in (bob, carol):
        assert user.call("POST", f"/invites/{invite['invite']['code']}/accept")[0] == 200
    _, channels = alice.call("GET", f"/workspaces/{wid}/channels")
    general = next(c["id"] for c in channels["channels"] if c["name"] == "general")
    return {"alice": alice, "bob": bob, "carol": carol, "wid": wid, "general": general}


def test_two_users_receive_each_others_messages(team: dict[str, Any]) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]

    async def scenario() -> None:
        async with alice.socket(wid) as a, bob.socket(wid) as b:
            await a.send(
                {"action": "sendMessage", "id": "1", "channelId": general, "text": "hi bob"}
            )
            ack = await a.next("ack", replyTo="1")
            assert ack["ok"] is True
            event = await b.next("message")
            assert isinstance(event.pop("eventId"), str)  # every event's, to drop a repeat
            assert event == {"type": "message", "channelId": general, "message": ack["message"]}

            status, posted = await asyncio.to_thread(
                bob.call, "POST", f"/channels/{general}/messages", {"text": "hi alice"}
            )
            assert status == 201
            event = await a.next("message")
            assert event["message"] == posted["message"]

    asyncio.run(scenario())
    _, history = alice.call("GET", f"/channels/{general}/messages")
    assert [m["text"] for m in history["messages"]] == ["hi alice", "hi bob"]


def test_a_member_outside_a_private_channel_receives_nothing(team: dict[str, Any]) -> None:
    alice, bob, carol, wid = team["alice"], team["bob"], team["carol"], team["wid"]
    _, secret = alice.call(
        "POST", f"/workspaces/{wid}/channels", {"name": "secret", "private": True}
    )
    cid = secret["channel"]["id"]
    alice.call("POST", f"/channels/{cid}/members", {"userIds": [bob.id]})

    async def scenario() -> None:
        async with alice.socket(wid) as a, bob.socket(wid) as b, carol.socket(wid) as c:
            await a.send({"action": "sendMessage", "id": "s", "channelId": cid, "text": "psst"})
            await a.next("ack", replyTo="s")
            assert (await b.next("message"))["message"]["text"] == "psst"
            assert [f for f in await c.quiet(1.5) if f.get("channelId") == cid] == []
            await c.send(
                {"action": "sendMessage", "id": "x", "channelId": cid, "text": "let me in"}
            )
            refused = await c.next("error", replyTo="x")
            assert refused["error"]["code"] == "not_found"

    asyncio.run(scenario())
    assert carol.call("GET", f"/channels/{cid}")[0] == 404
    assert carol.call("GET", f"/channels/{cid}/messages")[0] == 404


def test_channel_and_membership_events_arrive(team: dict[str, Any]) -> None:
    alice, bob, wid = team["alice"], team["bob"], team["wid"]

    async def scenario() -> None:
        async with alice.socket(wid) as a:
            _, created = await asyncio.to_thread(
                bob.call, "POST", f"/workspaces/{wid}/channels", {"name": "launch"}
            )
            cid = created["channel"]["id"]
            assert (await a.next("channel_created"))["channel"]["id"] == cid
            await asyncio.to_thread(alice.call, "POST", f"/channels/{cid}/join")
            await a.next("member_joined_channel", channelId=cid, userId=alice.id)
            await asyncio.to_thread(bob.call, "POST", f"/channels/{cid}/leave")
            await a.next("member_left_channel", channelId=cid, userId=bob.id)

    asyncio.run(scenario())


def test_a_bad_token_or_a_foreign_workspace_is_refused_at_the_handshake(
    stack: Stack, team: dict[str, Any]
) -> None:
    outsider = User(stack, f"outsider{next(_names)}")

    async def status_of(url: str) -> int:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, proxy=None):
                pass
        return refused.value.response.status_code

    async def scenario() -> None:
        base, wid = stack.ws_url, team["wid"]
        assert await status_of(f"{base}?token=not-a-jwt&workspaceId={wid}") == 401
        assert await status_of(f"{base}?workspaceId={wid}") == 401
        forged = team["alice"].token[:-4] + "AAAA"
        assert await status_of(f"{base}?token={forged}&workspaceId={wid}") == 401
        assert await status_of(f"{base}?token={outsider.token}&workspaceId={wid}") == 403
        assert await status_of(f"{base}?token={outsider.token}") in (401, 403)

    asyncio.run(scenario())


def test_bad_frames_get_error_frames_and_the_connection_stays_open(team: dict[str, Any]) -> None:
    alice, wid, general = team["alice"], team["wid"], team["general"]
    bad_frames = [
        ("{not json", None, "not valid JSON"),
        ("[]", None, "JSON object"),
        (json.dumps({"id": "n1"}), "n1", "no action"),
        (json.dumps({"action": "shout", "id": "u1"}), "u1", "unknown action"),
        (json.dumps({"action": "sendMessage", "id": "m1", "text": "where?"}), "m1", "channelId"),
        (json.dumps({"action": "sendMessage", "id": "m2", "channelId": general}), "m2", "text"),
        (
            json.dumps({"action": "sendMessage", "id": "m3", "channelId": general, "text": ""}),
            "m3",
            "empty",
        ),
    ]

    async def scenario() -> None:
        async with alice.socket(wid) as a:
            for raw, reply_to, says in bad_frames:
                await a.send(raw)
                error = await a.next("error")
                assert error.get("replyTo") == reply_to, raw[:40]
                assert error["error"]["code"] == "invalid_request"
                assert says in error["error"]["message"]
            await a.send({"action": "ping", "id": "still-here"})
            assert await a.next("pong") == {"type": "pong", "replyTo": "still-here"}

    asyncio.run(scenario())


def test_a_frame_over_32_kb_closes_the_connection_as_api_gateway_does(
    team: dict[str, Any],
) -> None:
    alice, wid, general = team["alice"], team["wid"], team["general"]

    async def scenario() -> None:
        async with alice.socket(wid) as a:
            big = {"action": "sendMessage", "channelId": general, "text": "x" * 33_000}
            await a.send(big)
            with pytest.raises(ConnectionClosed) as closed:
                await a.next("ack", timeout=5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1009

    asyncio.run(scenario())
    _, history = alice.call("GET", f"/channels/{general}/messages")
    assert history["messages"] == []


def test_a_connection_that_is_gone_is_pruned_and_others_still_receive(
    stack: Stack, team: dict[str, Any]
) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    assert stack.aws is not None
    dynamodb = stack.aws("dynamodb")
    key = {"PK": {"S": f"USER#{bob.id}"}, "SK": {"S": f"CONNS#{wid}"}}
    # A connection API Gateway no longer has (its $disconnect never ran): @connections says 410.
    dynamodb.update_item(
        TableName="parley-local-AppTable",
        Key=key,
        UpdateExpression="ADD conns :c",
        ExpressionAttributeValues={":c": {"SS": ["ghost-connection="]}},
    )

    async def scenario() -> None:
        async with bob.socket(wid) as b:
            status, _ = await asyncio.to_thread(
                alice.call, "POST", f"/channels/{general}/messages", {"text": "anyone?"}
            )
            assert status == 201
            assert (await b.next("message"))["message"]["text"] == "anyone?"

    asyncio.run(scenario())
    left = dynamodb.get_item(TableName="parley-local-AppTable", Key=key).get("Item", {})
    assert "ghost-connection=" not in left.get("conns", {}).get("SS", [])


def test_conversation_events_reach_members_over_real_sockets(team: dict[str, Any]) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]

    async def scenario() -> None:
        async with bob.socket(wid) as b:
            _, posted = await asyncio.to_thread(
                alice.call, "POST", f"/channels/{general}/messages", {"text": f"hi <@{bob.id}>"}
            )
            ts = posted["message"]["ts"]
            await b.next("message")
            base = f"/channels/{general}/messages/{ts}"
            await asyncio.to_thread(alice.call, "PATCH", base, {"text": "hi all"})
            changed = await b.next("message_changed")
            assert changed["message"]["text"] == "hi all"
            await asyncio.to_thread(alice.call, "PUT", f"{base}/reactions/wave")
            await b.next("reaction_added", ts=ts, name="wave", userId=alice.id)
            await asyncio.to_thread(
                alice.call, "POST", f"/channels/{general}/messages", {"text": "re", "threadTs": ts}
            )
            reply = await b.next("message")
            assert reply["message"]["threadTs"] == ts
            await asyncio.to_thread(alice.call, "DELETE", base)
            await b.next("message_deleted", ts=ts)
            await b.send({"action": "markRead", "id": "m", "channelId": general, "ts": ts})
            assert (await b.next("ack", replyTo="m"))["ok"] is True

    asyncio.run(scenario())
    _, unread = bob.call("GET", f"/workspaces/{wid}/unreads")
    row = next(c for c in unread["channels"] if c["channelId"] == general)
    assert row["lastReadTs"] is not None
