"""The authorization matrix's real-time and search parts, over real sockets and OpenSearch.

tests/unit/test_authorization_matrix.py holds every route against every role; here a
private channel's whole life (every kind of change its members make) reaches its members'
connections and nobody else's, the workspace admin's included, and search finds its words
for its members only.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any
from urllib.parse import quote

import pytest

from local.search_node import OpenSearchNode
from tests.integration import test_messaging, test_search

pytestmark = pytest.mark.integration

team = test_messaging.team  # Alice (admin), Bob and Carol in Alice's workspace
search_node = test_search.search_node  # skips where the machine cannot run OpenSearch

# Every change Bob makes in his private channel, and the event his other connection gets.
CHANGES = [
    ("PATCH", "/channels/{cid}/messages/{ts}", {"text": "edited"}, "message_changed"),
    ("PUT", "/channels/{cid}/messages/{ts}/reactions/eyes", None, "reaction_added"),
    ("DELETE", "/channels/{cid}/messages/{ts}/reactions/eyes", None, "reaction_removed"),
    ("PUT", "/channels/{cid}/pins/{ts}", None, "pin_added"),
    ("DELETE", "/channels/{cid}/pins/{ts}", None, "pin_removed"),
    ("PATCH", "/channels/{cid}", {"topic": "secret plans"}, "channel_changed"),
    ("POST", "/channels/{cid}/read", {"ts": "{ts}"}, "channel_marked"),
    ("DELETE", "/channels/{cid}/messages/{ts}", None, "message_deleted"),
]


def test_a_private_channels_events_reach_its_members_and_nobody_else(
    team: dict[str, Any],
) -> None:
    alice, bob, carol, wid = team["alice"], team["bob"], team["carol"], team["wid"]
    word = f"covert{uuid.uuid4().hex[:10]}"

    async def scenario() -> None:
        async with (
            alice.socket(wid) as admin,
            carol.socket(wid) as member,
            bob.socket(wid) as own,
            bob.socket(wid) as sender,
        ):
            _, created = await asyncio.to_thread(
                bob.call, "POST", f"/workspaces/{wid}/channels", {"name": "cov", "private": True}
            )
            cid = created["channel"]["id"]
            await own.next("channel_created")
            await sender.send({"action": "sendMessage", "id": "s", "channelId": cid, "text": word})
            ts = (await sender.next("ack", replyTo="s"))["message"]["ts"]
            await own.next("message", channelId=cid)
            await sender.send({"action": "typing", "channelId": cid})
            for method, path, body, event in CHANGES:
                filled = json.loads(json.dumps(body).replace("{ts}", ts)) if body else None
                route = path.format(cid=cid, ts=ts)
                status, reply = await asyncio.to_thread(bob.call, method, route, filled)
                assert status < 300, (route, reply)
                await own.next(event, timeout=20)
            for outsider in (admin, member):
                leaked = [f for f in await outsider.quiet(1.5) if cid in json.dumps(f)]
                assert leaked == []
                assert [f for f in outsider.seen if cid in json.dumps(f)] == []

    asyncio.run(scenario())


def test_search_finds_a_private_channels_words_for_its_members_only(
    team: dict[str, Any], search_node: OpenSearchNode
) -> None:
    alice, bob, carol, wid = team["alice"], team["bob"], team["carol"], team["wid"]
    word = f"hush{uuid.uuid4().hex[:10]}"
    _, created = bob.call("POST", f"/workspaces/{wid}/channels", {"name": "hush", "private": True})
    cid = created["channel"]["id"]
    assert bob.call("POST", f"/channels/{cid}/messages", {"text": word})[0] == 201

    def found(user: test_messaging.User) -> int:
        status, body = user.call("GET", f"/workspaces/{wid}/search?q={quote(word)}")
        assert status == 200, body
        return int(body["total"])

    deadline = time.monotonic() + 20
    while found(bob) == 0:
        assert time.monotonic() < deadline, "the message was not indexed in time"
        time.sleep(0.25)
    assert found(alice) == 0  # the workspace admin is not in the channel
    assert found(carol) == 0
    assert (
        bob.call("GET", f"/workspaces/{wid}/search?q={quote(word)}")[1]["results"][0]["channel"][
            "id"
        ]
        == cid
    )
