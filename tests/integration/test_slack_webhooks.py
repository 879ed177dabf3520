"""Slack's own clients on the local stack: a CI script posting through an incoming webhook
with slack_sdk's WebhookClient, and a slash command typed as a message reaching an
unchanged Bolt for Python app (served over HTTP by Bolt's WSGI adapter) whose
`@app.command` listener answers with `ack()` and `respond()`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from tests.integration import test_messaging
from tests.integration.bolt_server import served

pytestmark = pytest.mark.integration

team = test_messaging.team  # Alice's workspace with Bob and Carol, all in #general

BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Deploy 42"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*green* in 3 min"}},
]


def test_a_ci_script_posts_through_webhookclient_text_blocks_and_threads(
    team: dict[str, Any],
) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    status, created = alice.call(
        "POST", f"/workspaces/{wid}/apps", {"name": "CI", "scopes": ["incoming-webhook"]}
    )
    assert status == 201, created
    bot = created["app"]["botUserId"]
    status, made = alice.call(
        "POST", f"/channels/{general}/webhooks", {"appId": created["app"]["id"]}
    )
    assert status == 201, made
    hook = WebhookClient(made["url"])
    _, parent = alice.call("POST", f"/channels/{general}/messages", {"text": "deploy?"})
    parent_ts = parent["message"]["ts"]

    async def scenario() -> None:
        async with bob.socket(wid) as b:
            sent = await asyncio.to_thread(hook.send, text="Deploy 42 done", blocks=BLOCKS)
            assert (sent.status_code, sent.body) == (200, "ok")
            event = await b.next("message", timeout=10, channelId=general)
            message = event["message"]
            assert (message["userId"], message["subtype"]) == (bot, "bot_message")
            assert (message["text"], message["blocks"]) == ("Deploy 42 done", BLOCKS)
            reply = {"text": "all green", "thread_ts": parent_ts}  # send() has no thread_ts
            sent = await asyncio.to_thread(hook.send_dict, reply)
            assert (sent.status_code, sent.body) == (200, "ok")
            event = await b.next("message", timeout=10, channelId=general)
            assert event["message"]["threadTs"] == parent_ts

    asyncio.run(scenario())
    _, history = alice.call("GET", f"/channels/{general}/messages")
    newest = history["messages"][0]
    assert (newest["text"], newest["blocks"], newest["userId"]) == ("Deploy 42 done", BLOCKS, bot)
    _, replies = alice.call("GET", f"/channels/{general}/messages/{parent_ts}/replies")
    assert [m["text"] for m in replies["messages"]] == ["all green"]

    # Slack's refusals, as WebhookClient hands them back: the status and Slack's text.
    refused = hook.send_dict({"text": "x", "blocks": [{"no": "type"}]})
    assert (refused.status_code, refused.body) == (400, "invalid_blocks")
    refused = hook.send_dict({"username": "only cosmetics"})
    assert (refused.status_code, refused.body) == (400, "no_text")
    garbled = requests.post(made["url"], data="{oops", timeout=30)
    assert (garbled.status_code, garbled.text) == (400, "invalid_payload")
    assert garbled.headers["content-type"].startswith("text/plain")
    unknown = WebhookClient(f"{alice.stack.http_url}/hooks/pxh-nope").send(text="x")
    assert (unknown.status_code, unknown.body) == (404, "no_service")
    _, history = alice.call("GET", f"/channels/{general}/messages")
    assert history["messages"][0]["text"] == "Deploy 42 done"  # none of those was posted


@pytest.fixture
def bolt_command(team: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Alice's app with `/deploy`, served by a Bolt app written for Slack: given only the
    base URL, its bot token and its signing secret. Its listener acks with text, then
    answers twice through the response_url (to the invoker, then in the channel) and keeps
    what it got and what `respond` returned."""
    alice, wid = team["alice"], team["wid"]
    body = {"name": "Deployer", "scopes": ["commands", "chat:write"], "commands": ["/deploy"]}
    status, created = alice.call("POST", f"/workspaces/{wid}/apps", body)
    assert status == 201, created
    app = App(  # its start calls auth.test through Parley's Web API
        signing_secret=created["signingSecret"],
        client=WebClient(token=created["botToken"], base_url=f"{alice.stack.http_url}/api/"),
    )
    seen: dict[str, Any] = {"responded": []}

    @app.command("/deploy")
    def deploy(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        seen["command"] = command
        ack(f"Deploying {command['text']}...")
        seen["responded"].append(respond(text=f"Deployed {command['text']}", blocks=BLOCKS))
        seen["responded"].append(
            respond(text=f"{command['text']} is live", response_type="in_channel")
        )

    with served(app) as url:
        status, patched = alice.call("PATCH", f"/apps/{created['app']['id']}", {"commandUrl": url})
        assert status == 200, patched
        yield created, seen


def test_a_slash_command_reaches_bolt_whose_ack_and_respond_the_invoker_sees(
    team: dict[str, Any], bolt_command: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    created, seen = bolt_command
    bot = created["app"]["botUserId"]

    async def scenario() -> None:
        async with alice.socket(wid) as a, bob.socket(wid) as b:
            status, reply = await asyncio.to_thread(
                alice.call, "POST", f"/channels/{general}/messages", {"text": "/deploy v42"}
            )
            assert status == 200, reply
            result = reply["command"]
            assert (result["ok"], result["responseType"]) == (True, "ephemeral"), result
            assert result["replyText"] == "Deploying v42..."  # Bolt's ack(text)
            shown = [await a.next("ephemeral_message", timeout=30, channelId=general)]
            shown.append(await a.next("ephemeral_message", timeout=30, channelId=general))
            by_text = {e["text"]: e for e in shown}
            assert set(by_text) == {"Deploying v42...", "Deployed v42"}
            assert by_text["Deployed v42"]["blocks"] == BLOCKS
            assert by_text["Deployed v42"]["appId"] == created["app"]["id"]
            aloud = await b.next("message", timeout=30, channelId=general)
            assert (aloud["message"]["userId"], aloud["message"]["text"]) == (bot, "v42 is live")
            # What was for Alice alone never reached Bob.
            assert [f for f in await b.quiet(1.5) if f.get("type") == "ephemeral_message"] == []

    asyncio.run(scenario())
    command = seen["command"]
    assert (command["command"], command["text"]) == ("/deploy", "v42")
    assert (command["channel_id"], command["team_id"]) == (general, wid)
    assert command["user_id"] == alice.call("GET", "/me")[1]["user"]["id"]
    assert command["api_app_id"] == created["app"]["id"]
    deadline = time.monotonic() + 10
    while len(seen["responded"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    # What Slack's response_url answers, as respond() hands it back.
    assert [(r.status_code, r.body) for r in seen["responded"]] == [(200, '{"ok":true}')] * 2
    _, history = alice.call("GET", f"/channels/{general}/messages")
    texts = [m["text"] for m in history["messages"]]
    assert "v42 is live" in texts
    assert not [t for t in texts if t.startswith(("/deploy", "Deploy"))]
