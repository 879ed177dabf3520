"""examples/bolt_app, unchanged, against the local stack as its README walks through it:
the app is created, the example started as a process with its token, signing secret and
Parley's Web API URL (Bolt calls auth.test as it starts), its URLs set with PATCH (Bolt
answers the challenge), and then what a person does: "hello" gets the bot's answer in its
thread (`say`), `/standup` typed as a message reaches Bolt's command listener (`ack` to the
invoker, `respond` in the channel, or to the invoker alone), a reaction is heard and
answered with the same reaction, and a mention gets an answer."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from local.stack import PROJECT_ROOT, Stack
from tests.integration.test_messaging import User, make_team

pytestmark = pytest.mark.integration

BOLT_APP = PROJECT_ROOT / "examples" / "bolt_app" / "app.py"
# What the README creates the app with.
APP = {
    "name": "Standup",
    "scopes": [
        "chat:write",
        "channels:history",
        "reactions:read",
        "reactions:write",
        "app_mentions:read",
        "commands",
    ],
    "commands": ["/standup"],
    "events": ["message.channels", "reaction_added", "app_mention"],
}


@dataclass
class Running:
    team: dict[str, Any]
    app_id: str
    bot: str
    process: subprocess.Popen[str]

    @property
    def alice(self) -> User:
        return self.team["alice"]

    @property
    def general(self) -> str:
        return self.team["general"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(process: subprocess.Popen[str], port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the Bolt app exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            time.sleep(0.1)
        else:
            return
    raise AssertionError(f"the Bolt app did not listen on {port} within {timeout}s")


@pytest.fixture(scope="module")
def bolt(stack: Stack) -> Iterator[Running]:
    team = make_team(stack)
    alice, wid, general = team["alice"], team["wid"], team["general"]
    status, created = alice.call("POST", f"/workspaces/{wid}/apps", APP)
    assert status == 201, created
    port = _free_port()
    environment = {
        **os.environ,
        "SLACK_API_URL": f"{stack.http_url}/api/",
        "SLACK_BOT_TOKEN": created["botToken"],
        "SLACK_SIGNING_SECRET": created["signingSecret"],
        "PORT": str(port),
    }
    process = subprocess.Popen(  # noqa: S603  # our own example, by path
        [sys.executable, str(BOLT_APP)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_until_listening(process, port)
        url = f"http://127.0.0.1:{port}/slack/events"
        app_id = created["app"]["id"]
        status, patched = alice.call(
            "PATCH", f"/apps/{app_id}", {"eventsUrl": url, "commandUrl": url}
        )
        assert status == 200, patched  # Bolt answered Parley's url_verification
        bot = created["app"]["botUserId"]
        assert alice.call("POST", f"/channels/{general}/members", {"userIds": [bot]})[0] == 200
        yield Running(team, app_id, bot, process)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
        print("the Bolt app said:", output)  # shown when a test fails


def _eventually(
    probe: Callable[[], Any], what: str, timeout: float = 60, interval: float = 0.25
) -> Any:
    """The first truthy result of `probe` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout}s")


def _bot_replies(running: Running, ts: str) -> list[dict[str, Any]]:
    status, replies = running.alice.call(
        "GET", f"/channels/{running.general}/messages/{ts}/replies"
    )
    assert status == 200, replies
    return [m for m in replies["messages"] if m["userId"] == running.bot]


def test_hello_gets_the_bots_answer_in_its_thread(bolt: Running) -> None:
    bob = bolt.team["bob"]
    status, posted = bob.call("POST", f"/channels/{bolt.general}/messages", {"text": "hello all"})
    assert status == 201, posted
    ts = posted["message"]["ts"]

    answers = _eventually(lambda: _bot_replies(bolt, ts), "the bot's answer to hello")
    assert answers[0]["text"] == f"Hi <@{bob.id}>! Type `/standup` to share yours."
    assert answers[0]["threadTs"] == ts
    time.sleep(1.5)  # Bolt ignores its own bot's message: it does not answer itself
    assert len(_bot_replies(bolt, ts)) == 1


def test_standup_typed_as_a_message_is_acked_to_the_invoker_and_responded_in_the_channel(
    bolt: Running,
) -> None:
    alice, bob, wid = bolt.alice, bolt.team["bob"], bolt.team["wid"]

    async def scenario() -> None:
        async with alice.socket(wid) as a:
            status, reply = await asyncio.to_thread(
                bob.call,
                "POST",
                f"/channels/{bolt.general}/messages",
                {"text": "/standup shipped the importer; next: webhooks"},
            )
            assert status == 200, reply
            command = reply["command"]
            # ack(text) is the reply to the invoker, shown to no one else
            assert command["ok"] is True, command
            assert (command["appId"], command["responseType"]) == (bolt.app_id, "ephemeral")
            assert command["replyText"] == f"Thanks <@{bob.id}>, posting your standup."
            # respond(response_type="in_channel") comes through the response_url, as the bot
            posted = await a.next("message", timeout=60, channelId=bolt.general)
            while posted["message"]["userId"] != bolt.bot:
                posted = await a.next("message", timeout=60, channelId=bolt.general)
            message = posted["message"]
            assert message["text"] == (
                f"Standup from <@{bob.id}>: shipped the importer; next: webhooks"
            )
            assert [b["type"] for b in message["blocks"]] == ["section", "section"]
            assert not [f for f in a.seen if f.get("type") == "ephemeral_message"]

    asyncio.run(scenario())
    _, history = alice.call("GET", f"/channels/{bolt.general}/messages?limit=50")
    assert not [m for m in history["messages"] if m["text"].startswith("/standup")]


def test_standup_alone_is_answered_to_the_invoker_alone(bolt: Running) -> None:
    alice, bob, wid = bolt.alice, bolt.team["bob"], bolt.team["wid"]

    async def scenario() -> None:
        async with alice.socket(wid) as a, bob.socket(wid) as b:
            status, reply = await asyncio.to_thread(
                bob.call, "POST", f"/channels/{bolt.general}/messages", {"text": "/standup"}
            )
            assert status == 200, reply
            assert reply["command"]["ok"] is True, reply  # ack() without text shows nothing
            assert reply["command"]["responseType"] == "none", reply
            usage = await b.next("ephemeral_message", timeout=60, channelId=bolt.general)
            assert usage["text"].startswith("Usage: `/standup")
            assert usage["appId"] == bolt.app_id
            heard = await a.quiet(1.5)
            assert [f for f in heard if f.get("type") == "ephemeral_message"] == []

    asyncio.run(scenario())


def test_a_reaction_is_heard_and_the_bot_adds_the_same(bolt: Running) -> None:
    alice, bob = bolt.alice, bolt.team["bob"]
    _, posted = alice.call("POST", f"/channels/{bolt.general}/messages", {"text": "v42 is out"})
    ts = posted["message"]["ts"]
    status, _ = bob.call("PUT", f"/channels/{bolt.general}/messages/{ts}/reactions/tada")
    assert status == 200

    def tada_users() -> list[str] | None:
        _, found = alice.call("GET", f"/channels/{bolt.general}/messages/{ts}")
        for reaction in found["message"]["reactions"]:
            if reaction["name"] == "tada" and bolt.bot in reaction["users"]:
                return list(reaction["users"])
        return None

    users = _eventually(tada_users, "the bot's :tada:")
    assert sorted(users) == sorted([bob.id, bolt.bot])


def test_a_mention_of_the_bot_gets_an_answer(bolt: Running) -> None:
    bob = bolt.team["bob"]
    text = f"<@{bolt.bot}> are you there?"
    _, posted = bob.call("POST", f"/channels/{bolt.general}/messages", {"text": text})
    ts = posted["message"]["ts"]
    answers = _eventually(lambda: _bot_replies(bolt, ts), "the bot's answer to its mention")
    assert answers[0]["text"].startswith(f"You called, <@{bob.id}>?")
