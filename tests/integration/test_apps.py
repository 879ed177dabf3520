"""Apps end to end on the local stack: a bot token, an incoming webhook and the Events API
reaching a local receiver that verifies every signature with slack_sdk's verifier."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from tests.integration import test_messaging

pytestmark = pytest.mark.integration

team = test_messaging.team  # the same fixture: Alice's workspace with Bob and Carol


class Receiver:
    """An app's request URL: answers the challenge, records events whose signature holds."""

    def __init__(self) -> None:
        self.secret = ""
        self.events: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.failing = False  # answer events (not challenges) with a 500
        # (event ts, X-Slack-Retry-Num, X-Slack-Retry-Reason)
        self.attempts: list[tuple[str, str | None, str | None]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = dict(self.headers.items())
                if not SignatureVerifier(receiver.secret).is_valid_request(body, headers):
                    receiver.refused.append(str(headers))  # the test asserts there were none
                    self.send_response(401)
                    self.end_headers()
                    return
                payload = json.loads(body)
                answer = b""
                if payload["type"] == "url_verification":
                    answer = json.dumps({"challenge": payload["challenge"]}).encode()
                else:
                    retry = self.headers.get("X-Slack-Retry-Num")
                    reason = self.headers.get("X-Slack-Retry-Reason")
                    receiver.attempts.append((payload["event"].get("ts", ""), retry, reason))
                    if receiver.failing:
                        self.send_response(500)
                        self.end_headers()
                        return
                    receiver.events.append({**payload, "retry": retry})
                self.send_response(200)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/parley/events"

    def wait_for(self, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if predicate(event):
                    return event
            time.sleep(0.2)
        raise AssertionError(f"no matching event within {timeout}s; got {self.events}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    yield running
    running.server.shutdown()


def web_api(stack_url: str, token: str) -> WebClient:
    return WebClient(token=token, base_url=f"{stack_url}/api/")


def slack_error(call: Any, *args: Any, **kwargs: Any) -> str:
    """The Slack error code a Web API call fails with."""
    with pytest.raises(SlackApiError) as failed:
        call(*args, **kwargs)
    return str(failed.value.response["error"])


def test_a_bot_and_a_webhook_post_into_a_channel_in_real_time(team: dict[str, Any]) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    base = alice.stack.http_url
    scopes = ["chat:write", "channels:read", "channels:history"]
    status, created = alice.call(
        "POST", f"/workspaces/{wid}/apps", {"name": "CI", "scopes": scopes}
    )
    assert status == 201, created
    client, bot = web_api(base, created["botToken"]), created["app"]["botUserId"]
    assert slack_error(client.conversations_history, channel=general) == "not_in_channel"
    status, hook = alice.call(
        "POST", f"/channels/{general}/webhooks", {"appId": created["app"]["id"]}
    )
    assert status == 201, hook
    hook_url = hook["url"]
    assert hook_url.startswith(f"{base}/hooks/pxh-")

    async def scenario() -> None:
        async with bob.socket(wid) as b:
            posted = await asyncio.to_thread(
                client.chat_postMessage, channel=general, text="build ok"
            )
            assert posted["ok"] is True
            event = await b.next("message")
            assert event["message"]["userId"] == bot
            reply = await asyncio.to_thread(
                requests.post, hook_url, json={"text": "deployed"}, timeout=30
            )
            assert reply.status_code < 300, reply.text
            event = await b.next("message", timeout=10)
            assert event["message"]["text"] == "deployed"

    asyncio.run(scenario())
    for refused in (
        requests.post(hook_url, data="{oops", timeout=30),
        requests.post(hook_url, json={"text": "x" * 600_000}, timeout=30),
        requests.post(f"{base}/hooks/pxh-nope", json={"text": "x"}, timeout=30),
    ):
        assert 400 <= refused.status_code < 500, refused.text
    assert slack_error(web_api(base, "xoxb-nope").auth_test) == "invalid_auth"


def test_subscribed_events_reach_the_apps_url_in_slacks_envelope_signed(
    team: dict[str, Any], receiver: Receiver
) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    body = {
        "name": "Echo",
        "scopes": ["chat:write", "channels:history", "reactions:read", "app_mentions:read"],
        "eventsUrl": receiver.url,
        "events": ["message.channels", "reaction_added", "app_mention"],
    }
    status, created = alice.call("POST", f"/workspaces/{wid}/apps", body)
    assert status == 201, created
    receiver.secret = created["signingSecret"]
    app_id, bot = created["app"]["id"], created["app"]["botUserId"]
    alice.call("POST", f"/channels/{general}/members", {"userIds": [bot]})
    text = f"hello, <@{bot}>"
    _, posted = alice.call("POST", f"/channels/{general}/messages", {"text": text})
    ts = posted["message"]["ts"]
    got = receiver.wait_for(lambda e: e["event"]["type"] == "message" and e["event"]["ts"] == ts)
    assert (got["type"], got["api_app_id"], got["team_id"]) == ("event_callback", app_id, wid)
    assert got["authorizations"][0]["user_id"] == bot
    assert got["event_id"].startswith("Ev")
    event = got["event"]
    assert (event["channel"], event["channel_type"], event["user"]) == (
        general,
        "channel",
        alice.id,
    )
    assert event["text"] == text
    mention = receiver.wait_for(lambda e: e["event"]["type"] == "app_mention")
    assert (mention["event"]["ts"], mention["event"]["user"]) == (ts, alice.id)
    assert mention["event_id"] != got["event_id"]

    _, reply = bob.call(
        "POST", f"/channels/{general}/messages", {"text": "a reply", "threadTs": ts}
    )
    threaded = receiver.wait_for(lambda e: e["event"].get("ts") == reply["message"]["ts"])
    assert (threaded["event"]["thread_ts"], threaded["event"]["parent_user_id"]) == (ts, alice.id)

    bob.call("PUT", f"/channels/{general}/messages/{ts}/reactions/wave")
    reaction = receiver.wait_for(lambda e: e["event"]["type"] == "reaction_added")
    assert (reaction["event"]["reaction"], reaction["event"]["user"]) == ("wave", bob.id)
    assert reaction["event"]["item"] == {"type": "message", "channel": general, "ts": ts}
    assert reaction["event"]["item_user"] == alice.id

    alice.call("PATCH", f"/channels/{general}/messages/{ts}", {"text": "hello again"})
    edit = receiver.wait_for(lambda e: e["event"].get("subtype") == "message_changed")
    assert (edit["event"]["message"]["text"], edit["event"]["previous_message"]["text"]) == (
        "hello again",
        text,
    )
    alice.call("DELETE", f"/channels/{general}/messages/{ts}")
    deleted = receiver.wait_for(lambda e: e["event"].get("subtype") == "message_deleted")
    assert deleted["event"]["deleted_ts"] == ts
    assert receiver.refused == []


def test_a_slash_command_whose_app_is_too_slow_loses_nothing(team: dict[str, Any]) -> None:
    """The app answers after 4 s: the sender hears within about 3 s that it failed, with the
    command repeated, and nothing is posted."""
    alice, wid, general = team["alice"], team["wid"], team["general"]
    answered = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            answered.wait(4)
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        body = {
            "name": "Slow",
            "scopes": ["chat:write"],
            "commands": ["/slow"],
            "commandUrl": f"http://127.0.0.1:{server.server_address[1]}/commands",
        }
        status, created = alice.call("POST", f"/workspaces/{wid}/apps", body)
        assert status == 201, created
        started = time.monotonic()
        status, reply = alice.call("POST", f"/channels/{general}/messages", {"text": "/slow x"})
        elapsed = time.monotonic() - started
        assert status == 200, reply
        assert (reply["command"]["ok"], reply["command"]["error"]) == (False, "app_unreachable")
        assert "/slow x" in reply["command"]["replyText"]
        assert elapsed < 10  # the 3 s deadline, plus the local stack's own latency
        _, history = alice.call("GET", f"/channels/{general}/messages")
        assert not [m for m in history["messages"] if m["text"].startswith("/slow")]
    finally:
        answered.set()
        server.shutdown()


def test_unacknowledged_events_are_retried_then_the_subscription_pauses_until_resumed(
    team: dict[str, Any], receiver: Receiver
) -> None:
    """Each event is tried 4 times (retries 1, 2 and 3 carry X-Slack-Retry-Num and, the
    receiver answering 500, X-Slack-Retry-Reason `http_error`; this stack's schedule is 0,
    1 and 1 s, AWS's 0, 60 and 300 s); after 5 events lost in a row the subscription
    pauses, sends nothing, and resumes when an admin says so."""
    alice, wid = team["alice"], team["wid"]
    receiver.failing = True
    body = {"name": "Flaky", "scopes": ["channels:history"], "eventsUrl": receiver.url}
    status, created = alice.call(
        "POST", f"/workspaces/{wid}/apps", {**body, "events": ["message.channels"]}
    )
    assert status == 201, created
    receiver.secret = created["signingSecret"]
    app_id = created["app"]["id"]
    _, made = alice.call("POST", f"/workspaces/{wid}/channels", {"name": "flaky-retries"})
    channel = made["channel"]["id"]
    alice.call("POST", f"/channels/{channel}/members", {"userIds": [created["app"]["botUserId"]]})

    def post(text: str) -> str:
        status, posted = alice.call("POST", f"/channels/{channel}/messages", {"text": text})
        assert status == 201, posted
        return str(posted["message"]["ts"])

    def app_state() -> dict[str, Any]:
        _, listed = alice.call("GET", f"/workspaces/{wid}/apps")
        return next(app for app in listed["apps"] if app["id"] == app_id)  # type: ignore[no-any-return]  # the answer is JSON

    lost = [post(f"lost {n}") for n in range(5)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not app_state()["eventsPaused"]:
        time.sleep(0.5)
    assert app_state()["eventsPaused"], receiver.attempts
    for ts in lost:
        tries = sorted((r or "0", why) for t, r, why in receiver.attempts if t == ts)
        assert tries == [("0", None), ("1", "http_error"), ("2", "http_error"), ("3", "http_error")]
    assert receiver.refused == []

    quiet = post("while paused")
    time.sleep(3)
    assert [t for t, _, _ in receiver.attempts if t == quiet] == []

    receiver.failing = False
    status, resumed = alice.call("POST", f"/apps/{app_id}/events/resume")
    assert status == 200, resumed
    assert resumed["app"]["eventsPaused"] is False
    ts = post("after resume")
    got = receiver.wait_for(lambda e: e["event"].get("ts") == ts)
    assert got["retry"] is None


def test_a_bot_token_does_only_what_its_scopes_allow(team: dict[str, Any]) -> None:
    """In the channel, a bot with `channels:history` alone reads it, but may neither post
    nor react (`missing_scope`); with `chat:write` and `reactions:write` it may."""
    alice, wid, general = team["alice"], team["wid"], team["general"]
    base = alice.stack.http_url
    _, ts_holder = alice.call("POST", f"/channels/{general}/messages", {"text": "react to me"})
    ts = ts_holder["message"]["ts"]
    clients = {}
    for name, scopes in {
        "Reader": ["channels:history"],
        "Writer": ["chat:write", "reactions:write", "channels:history"],
    }.items():
        status, created = alice.call(
            "POST", f"/workspaces/{wid}/apps", {"name": name, "scopes": scopes}
        )
        assert status == 201, created
        alice.call(
            "POST", f"/channels/{general}/members", {"userIds": [created["app"]["botUserId"]]}
        )
        clients[name] = web_api(base, created["botToken"])
    reader, writer = clients["Reader"], clients["Writer"]
    assert reader.conversations_history(channel=general)["ok"] is True
    assert slack_error(reader.chat_postMessage, channel=general, text="hi") == "missing_scope"
    assert (
        slack_error(reader.reactions_add, channel=general, timestamp=ts, name="eyes")
        == "missing_scope"
    )
    assert writer.chat_postMessage(channel=general, text="hi")["ok"] is True
    assert writer.reactions_add(channel=general, timestamp=ts, name="eyes")["ok"] is True
