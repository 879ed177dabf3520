"""Presence end to end: the scheduled sweep tells a subscriber that a user's heartbeat expired.

This module runs its own stack with a 3-second presence timeout and the schedule every
second (the template's default is 10 minutes, swept every minute), so it overrides the
session's `stack` fixture.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from local.stack import PROJECT_ROOT, Stack, StackConfig
from tests.integration import test_messaging
from tests.integration.test_messaging import Socket

pytestmark = pytest.mark.integration

team = test_messaging.team
TIMEOUT_S = 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = StackConfig(
        template=PROJECT_ROOT / "template.yaml",
        state_dir=tmp_path_factory.mktemp("presence-stack"),
        http_port=0,
        ws_port=0,
        aws_port=0,
        poll_interval_s=0.05,
        prewarm=False,
        parameters={"PresenceTimeoutSeconds": str(TIMEOUT_S)},
        schedule_interval_s=1.0,
    )
    with Stack(config) as started:
        yield started


def test_a_subscriber_hears_away_when_a_heartbeat_expires_and_active_on_the_next_ping(
    team: dict[str, Any],
) -> None:
    alice, bob, wid = team["alice"], team["bob"], team["wid"]

    async def scenario() -> None:
        # The order of events, not their timing, is what is checked: a cold function on a
        # loaded machine may take longer than the timeout itself.
        async with alice.socket(wid) as watcher:
            await watcher.send({"action": "subscribePresence", "id": "s", "userIds": [bob.id]})
            ack = await watcher.next("ack", timeout=30, replyTo="s")
            assert ack["presence"] == {bob.id: "away"}
            async with bob.socket(wid) as watched:
                await watched_session(watcher, watched)

    async def watched_session(watcher: Socket, watched: Socket) -> None:
        arrived = await watcher.next("presence_change", timeout=30, userId=bob.id)
        assert arrived["presence"] == "active"
        # Bob stays connected but stops pinging: the sweep announces the expiry.
        away = await watcher.next("presence_change", timeout=TIMEOUT_S + 30, userId=bob.id)
        assert away["presence"] == "away"
        status, body = await asyncio.to_thread(
            alice.call, "GET", f"/workspaces/{wid}/presence?userIds={bob.id}"
        )
        assert (status, body) == (200, {"presence": {bob.id: "away"}})
        # Exactly once: later sweeps find nothing new to say about Bob.
        later = await watcher.quiet(2.5)
        assert [f for f in later if f.get("type") == "presence_change"] == []

        await watched.send({"action": "ping", "id": "p"})
        assert (await watched.next("pong", timeout=30))["replyTo"] == "p"
        back = await watcher.next("presence_change", timeout=30, userId=bob.id)
        assert back["presence"] == "active"

    asyncio.run(scenario())
