"""examples/echo_app against the local stack, as its README walks through it: the app is
created, the example started with its token and secret, its URLs set with PATCH (the
challenge answered live), and then each of the four: an incoming webhook, the Events API
(a message echoed back with the bot token), and the slash command /echo (answered in the
channel, and a second later through its response_url to the invoker alone)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from local.stack import PROJECT_ROOT
from tests.integration import test_messaging

pytestmark = pytest.mark.integration

team = test_messaging.team
ECHO_APP = PROJECT_ROOT / "examples" / "echo_app" / "echo_app.py"


class RunningEchoApp:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url


@pytest.fixture
def installed(team: dict[str, Any]) -> Iterator[tuple[dict[str, Any], RunningEchoApp]]:
    """The app created by Alice, its bot in #general, the example serving on a free port."""
    alice, wid, general = team["alice"], team["wid"], team["general"]
    body = {"name": "Echo", "scopes": ["chat:write", "channels:history"], "commands": ["/echo"]}
    status, created = alice.call("POST", f"/workspaces/{wid}/apps", body)
    assert status == 201, created
    environment = {
        **os.environ,
        "PARLEY_API_URL": alice.stack.http_url,
        "PARLEY_BOT_TOKEN": created["botToken"],
        "PARLEY_SIGNING_SECRET": created["signingSecret"],
    }
    process = subprocess.Popen(  # noqa: S603  # our own example, by path
        [sys.executable, str(ECHO_APP), "serve", "--port", "0"],
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("listening on http://"), first
        app = RunningEchoApp(process, first.removeprefix("listening on "))
        status, _ = alice.call(
            "POST", f"/channels/{general}/members", {"userIds": [created["app"]["botUserId"]]}
        )
        assert status == 200
        yield created, app
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
        print("echo app said:", output)  # shown when the test fails


def test_the_echo_app_does_all_four_against_the_local_stack(
    team: dict[str, Any], installed: tuple[dict[str, Any], RunningEchoApp]
) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    created, echo = installed
    app_id, bot = created["app"]["id"], created["app"]["botUserId"]

    # PATCH the URLs in: the events URL must answer the challenge now.
    urls = {
        "eventsUrl": f"{echo.url}/events",
        "events": ["message.channels"],
        "commandUrl": f"{echo.url}/commands",
    }
    status, patched = alice.call("PATCH", f"/apps/{app_id}", urls)
    assert status == 200, patched
    assert patched["app"]["commandUrl"] == f"{echo.url}/commands"
    status, refused = alice.call("PATCH", f"/apps/{app_id}", {"eventsUrl": f"{echo.url}/nope"})
    assert status == 422, refused  # the example answers 404 there: no challenge, no change

    # 1. An incoming webhook, through the example's own CLI.
    status, hook = alice.call("POST", f"/channels/{general}/webhooks", {"appId": app_id})
    assert status == 201, hook
    posted = subprocess.run(  # noqa: S603
        [sys.executable, str(ECHO_APP), "hook", hook["url"], "deployed v42"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert posted.returncode == 0, posted.stdout + posted.stderr

    async def scenario() -> None:
        async with alice.socket(wid) as a, bob.socket(wid) as b:
            # 2. Events API: Bob's message reaches the example, which echoes it as the bot.
            status, sent = await asyncio.to_thread(
                bob.call, "POST", f"/channels/{general}/messages", {"text": "ping from bob"}
            )
            assert status == 201, sent
            echoed = await a.next("message", timeout=30, channelId=general)
            while echoed["message"]["userId"] != bot:
                echoed = await a.next("message", timeout=30, channelId=general)
            assert echoed["message"]["text"] == "echo: ping from bob"

            # 3. Bot token: the example posted with it; Bob sees the same message.
            seen = await b.next("message", timeout=30, channelId=general)
            while seen["message"]["userId"] != bot:
                seen = await b.next("message", timeout=30, channelId=general)

            # 4. The slash command over the WebSocket: in_channel now, ephemeral later.
            await a.send(
                {"action": "sendMessage", "id": "cmd", "channelId": general, "text": "/echo hi"}
            )
            ack = await a.next("ack", timeout=30, replyTo="cmd")
            assert ack["command"]["ok"] is True, ack
            assert ack["command"]["responseType"] == "in_channel"
            assert ack["command"]["message"]["userId"] == bot
            aloud = await b.next("message", timeout=30, channelId=general)
            while aloud["message"]["text"] != "echo: hi":
                aloud = await b.next("message", timeout=30, channelId=general)
            later = await a.next("ephemeral_message", timeout=30, channelId=general)
            assert later["text"] == "(a second later, for you) hi"
            assert later["appId"] == app_id
            assert [f for f in await b.quiet(1.5) if f.get("type") == "ephemeral_message"] == []

    asyncio.run(scenario())

    # The webhook's message is in the channel, and nothing of the command was posted as Alice.
    _, history = alice.call("GET", f"/channels/{general}/messages?limit=50")
    texts = [(m["userId"], m["text"]) for m in history["messages"]]
    assert (bot, "deployed v42") in texts
    assert not [t for _, t in texts if t.startswith("/echo")]
