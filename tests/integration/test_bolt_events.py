"""An unchanged Bolt for Python app, given only Parley's base URL, its bot token and its
signing secret, served over HTTP by Bolt's own WSGI adapter, on the local stack: it starts
(auth.test through /api), answers Parley's url_verification when the URL is saved, and
Parley's deliveries (Slack's envelope, signed as Slack signs) reach its `@app.message`,
`@app.event("reaction_added")` and `@app.event("app_mention")` listeners, whose `say`
answers in the channel; what its own bot posts never reaches them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from slack_bolt import App
from slack_sdk import WebClient

from tests.integration import test_messaging
from tests.integration.bolt_server import served

pytestmark = pytest.mark.integration

team = test_messaging.team


class Heard:
    """What the Bolt app's listeners were called with, by listener."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def add(self, listener: str, event: dict[str, Any]) -> None:
        with self._lock:
            self.events.setdefault(listener, []).append(event)

    def wait_for(self, listener: str, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [e for e in self.events.get(listener, []) if predicate(e)]
            if found:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"{listener} heard nothing matching within {timeout}s: {self.events}")


@pytest.fixture
def bolt(team: dict[str, Any]) -> Iterator[tuple[dict[str, Any], Heard]]:
    """Alice's app, and a Bolt app written for Slack with its token and signing secret,
    listening on a free port; its URL saved with PATCH (Bolt answers the challenge), its bot
    in #general. Its message listener answers with `say`."""
    alice, wid, general = team["alice"], team["wid"], team["general"]
    body = {
        "name": "Bolt",
        "scopes": ["chat:write", "channels:history", "reactions:read", "app_mentions:read"],
        "events": ["message.channels", "reaction_added", "app_mention"],
    }
    status, created = alice.call("POST", f"/workspaces/{wid}/apps", body)
    assert status == 201, created
    bot = created["app"]["botUserId"]
    app = App(  # its start calls auth.test, which must know the token
        signing_secret=created["signingSecret"],
        client=WebClient(token=created["botToken"], base_url=f"{alice.stack.http_url}/api/"),
    )
    heard = Heard()

    @app.message("hello")
    def greeted(message: dict[str, Any], say: Any) -> None:
        heard.add("message", message)
        say(f"hello back, <@{message['user']}>")  # had Parley sent it back: a loop

    @app.event("reaction_added")
    def reacted(event: dict[str, Any]) -> None:
        heard.add("reaction_added", event)

    @app.event("app_mention")
    def mentioned(event: dict[str, Any]) -> None:
        heard.add("app_mention", event)

    with served(app) as url:
        status, patched = alice.call("PATCH", f"/apps/{created['app']['id']}", {"eventsUrl": url})
        assert status == 200, patched  # Bolt answered Parley's url_verification
        assert alice.call("POST", f"/channels/{general}/members", {"userIds": [bot]})[0] == 200
        yield created, heard


def test_bolts_listeners_hear_messages_reactions_and_mentions_and_say_answers(
    team: dict[str, Any], bolt: tuple[dict[str, Any], Heard]
) -> None:
    alice, bob, general = team["alice"], team["bob"], team["general"]
    created, heard = bolt
    bot = created["app"]["botUserId"]

    _, posted = alice.call("POST", f"/channels/{general}/messages", {"text": "hello, bolt"})
    ts = posted["message"]["ts"]
    message = heard.wait_for("message", lambda e: e["ts"] == ts)
    assert (message["channel"], message["user"], message["text"]) == (
        general,
        alice.id,
        "hello, bolt",
    )
    assert message["channel_type"] == "channel"

    assert bob.call("PUT", f"/channels/{general}/messages/{ts}/reactions/tada")[0] == 200
    reaction = heard.wait_for("reaction_added", lambda e: e["item"]["ts"] == ts)
    assert (reaction["user"], reaction["reaction"], reaction["item_user"]) == (
        bob.id,
        "tada",
        alice.id,
    )

    _, asked = bob.call("POST", f"/channels/{general}/messages", {"text": f"<@{bot}> status?"})
    mention = heard.wait_for("app_mention", lambda e: e["ts"] == asked["message"]["ts"])
    assert (mention["user"], mention["channel"]) == (bob.id, general)

    answer = f"hello back, <@{alice.id}>"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, history = alice.call("GET", f"/channels/{general}/messages?limit=20")
        said = [m for m in history["messages"] if m["text"] == answer]
        if said:
            break
        time.sleep(0.3)
    assert [m["userId"] for m in said] == [bot]
    time.sleep(1)  # its own "hello back", had Parley sent it, would have reached the listener
    assert [e["text"] for e in heard.events["message"]] == ["hello, bolt"]


def test_what_its_own_bots_webhook_posts_never_reaches_its_listeners(
    team: dict[str, Any], bolt: tuple[dict[str, Any], Heard]
) -> None:
    alice, general = team["alice"], team["general"]
    created, heard = bolt
    status, hook = alice.call(
        "POST", f"/channels/{general}/webhooks", {"appId": created["app"]["id"]}
    )
    assert status == 201, hook
    reply = requests.post(hook["url"], json={"text": "hello from my own webhook"}, timeout=30)
    assert reply.status_code < 300, reply.text
    _, posted = alice.call("POST", f"/channels/{general}/messages", {"text": "hello after"})
    heard.wait_for("message", lambda e: e["ts"] == posted["message"]["ts"])
    time.sleep(1)  # the bot's own message, had it been sent, went first
    assert [e["text"] for e in heard.events["message"]] == ["hello after"]
