"""Notifications end to end: a mention posted over HTTP goes through the table's stream and
the notifier to the mentioned user's WebSocket, and into GET /me/notifications."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from local.stack import Stack
from tests.integration.test_messaging import User

pytestmark = pytest.mark.integration


def test_a_mention_reaches_the_mentioned_users_socket_and_their_list(stack: Stack) -> None:
    n = uuid.uuid4().hex[:8]
    alice, bob = User(stack, f"nalice{n}"), User(stack, f"nbob{n}")
    status, created = alice.call("POST", "/workspaces", {"name": f"Notify {n}"})
    assert status == 201, created
    wid = created["workspace"]["id"]
    _, invite = alice.call("POST", f"/workspaces/{wid}/invites")
    assert bob.call("POST", f"/invites/{invite['invite']['code']}/accept")[0] == 200
    _, channels = alice.call("GET", f"/workspaces/{wid}/channels")
    general = next(c["id"] for c in channels["channels"] if c["name"] == "general")

    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with bob.socket(wid) as b, alice.socket(wid) as a:
            status, posted = await asyncio.to_thread(
                alice.call, "POST", f"/channels/{general}/messages", {"text": f"<@{bob.id}> hi"}
            )
            assert status == 201, posted
            event = await b.next("notification", timeout=30)
            return event | {"posted": posted["message"]}, await a.quiet(1.0)

    event, alice_frames = asyncio.run(scenario())
    ts = event.pop("posted")["ts"]
    assert event["notification"] | {"createdAt": None} == {
        "id": f"{general}-{ts}",
        "type": "mention",
        "channelId": general,
        "ts": ts,
        "userId": alice.id,
        "createdAt": None,
    }
    assert all(f.get("type") != "notification" for f in alice_frames)  # never the author
    # The notifier writes the notification before it announces it.
    status, listed = bob.call("GET", "/me/notifications")
    assert status == 200, listed
    # The list carries `text` as null where the notification has none; frames leave it out.
    assert [
        {k: v for k, v in n.items() if not (k == "text" and v is None)}
        for n in listed["notifications"]
    ] == [event["notification"]]
    assert alice.call("GET", "/me/notifications")[1]["notifications"] == []
