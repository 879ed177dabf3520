"""Incoming webhooks: an unguessable URL per channel posting as an app's bot, taking Slack's
payload and answering as Slack's do (`ok` as text/plain, or Slack's error text)."""

from __future__ import annotations

import copy
import hashlib
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.functional.conftest import (
    ALICE,
    BOB,
    CAROL,
    TABLE,
    Api,
    Context,
    RecordingPoster,
    load_function,
    post,
    sample_event,
)

BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Deploy 42"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*done* in 3 min"}},
]


def install(api: Api, wid: str, user: str = ALICE) -> dict[str, Any]:
    body = {"name": "CI", "scopes": ["chat:write", "incoming-webhook"]}
    status, created = api("POST", f"/workspaces/{wid}/apps", user=user, body=body)
    assert status == 201, created
    return created  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def make_hook(api: Api, cid: str, app_id: str) -> tuple[str, dict[str, Any]]:
    """The hook's path (/hooks/<token>) and its description."""
    status, created = api("POST", f"/channels/{cid}/webhooks", body={"appId": app_id})
    assert status == 201, created
    url = created["url"]
    return url[url.index("/hooks/") :], created["webhook"]


def slack_post(
    path: str, body: Any, content_type: str = "application/json"
) -> tuple[int, dict[str, str], str]:
    """POSTs as a Slack client does, without a JWT: `body` as JSON, or as it is when it is
    text or bytes. Returns the status, the reply's headers and its body's text."""
    event = copy.deepcopy(sample_event("api-post-via-webhook.json"))
    route, token = path.rsplit("/", 1)
    event["routeKey"] = f"POST {route}/{{token}}"
    event["rawPath"] = path
    event["pathParameters"] = {"token": token}
    event["requestContext"]["http"].update(path=path)
    event["headers"]["content-type"] = content_type
    if isinstance(body, bytes):
        import base64

        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    else:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    reply = load_function("api").lambda_handler(event, Context())
    return reply["statusCode"], reply.get("headers", {}), reply.get("body", "")


def send(path: str, body: Any, content_type: str = "application/json") -> tuple[int, str]:
    """A webhook's status and its text answer (always text/plain, as Slack's)."""
    status, headers, text = slack_post(path, body, content_type)
    assert headers["Content-Type"] == "text/plain", headers
    return status, text


def history(api: Api, cid: str) -> list[dict[str, Any]]:
    return api("GET", f"/channels/{cid}/messages")[1]["messages"]  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


@pytest.fixture
def hook(api: Api, workspace: dict[str, str]) -> dict[str, Any]:
    app = install(api, workspace["wid"])["app"]
    path, webhook = make_hook(api, workspace["general"], app["id"])
    return {"path": path, "webhook": webhook, "app": app}


def test_a_webhook_posts_as_the_bot_in_real_time_and_answers_ok_as_text(
    api: Api,
    workspace: dict[str, str],
    hook: dict[str, Any],
    connect: Callable[[str, str, str], None],
    poster: RecordingPoster,
) -> None:
    connect("conn-bob", BOB, workspace["wid"])
    assert send(hook["path"], {"text": "deploy 42 done"}) == (200, "ok")
    [event] = poster.events("conn-bob", "message")
    assert event["channelId"] == workspace["general"]
    message = event["message"]
    assert (message["userId"], message["text"]) == (hook["app"]["botUserId"], "deploy 42 done")
    assert (message["subtype"], message["appId"]) == ("bot_message", hook["app"]["id"])
    assert [m["text"] for m in history(api, workspace["general"])] == ["deploy 42 done"]


def test_blocks_and_thread_ts_travel_with_the_message(
    api: Api,
    workspace: dict[str, str],
    hook: dict[str, Any],
    connect: Callable[[str, str, str], None],
    poster: RecordingPoster,
) -> None:
    general = workspace["general"]
    parent = post(api, general, "what broke?")
    connect("conn-bob", BOB, workspace["wid"])
    payload = {"text": "Deploy 42 done", "blocks": BLOCKS, "thread_ts": parent["ts"]}
    assert send(hook["path"], payload) == (200, "ok")
    [event] = poster.events("conn-bob", "message")
    assert event["message"]["blocks"] == BLOCKS
    assert event["message"]["threadTs"] == parent["ts"]
    _, replies = api("GET", f"/channels/{general}/messages/{parent['ts']}/replies")
    [reply] = replies["messages"]
    assert (reply["text"], reply["blocks"]) == ("Deploy 42 done", BLOCKS)
    # Blocks alone make a message too, as in Slack (the text is only their fallback).
    assert send(hook["path"], {"blocks": BLOCKS}) == (200, "ok")
    assert history(api, general)[0]["blocks"] == BLOCKS


def test_slacks_form_encoded_payload_is_taken_too(
    api: Api, workspace: dict[str, str], hook: dict[str, Any]
) -> None:
    form = urllib.parse.urlencode({"payload": json.dumps({"text": "from curl -d payload="})})
    assert send(hook["path"], form, "application/x-www-form-urlencoded") == (200, "ok")
    # As slack_sdk's WebhookClient sends it, with a charset.
    assert send(hook["path"], {"text": "sdk"}, "application/json;charset=utf-8") == (200, "ok")
    assert [m["text"] for m in history(api, workspace["general"])] == [
        "sdk",
        "from curl -d payload=",
    ]


def test_slacks_cosmetic_fields_and_channel_override_are_ignored(
    api: Api, workspace: dict[str, str], hook: dict[str, Any]
) -> None:
    payload = {
        "text": "dressed up",
        "username": "Deploy Bot",
        "icon_emoji": ":rocket:",
        "icon_url": "https://example.com/rocket.png",
        "mrkdwn": True,
        "unfurl_links": False,
        "unfurl_media": False,
        "link_names": 1,
        "channel": "#elsewhere",  # a legacy hook's override: this hook posts in its channel
    }
    assert send(hook["path"], payload) == (200, "ok")
    [message] = history(api, workspace["general"])
    assert (message["text"], message["userId"]) == ("dressed up", hook["app"]["botUserId"])


def test_legacy_attachments_lend_their_fallback_text(
    api: Api, workspace: dict[str, str], hook: dict[str, Any]
) -> None:
    attachments = [
        {"fallback": "Build 7 failed", "color": "danger", "title": "Build 7"},
        {"text": "see the log"},
    ]
    assert send(hook["path"], {"attachments": attachments}) == (200, "ok")
    assert history(api, workspace["general"])[0]["text"] == "Build 7 failed\nsee the log"
    assert send(hook["path"], {"attachments": [{"color": "good"}]}) == (400, "no_text")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        ("[" * 5000, "application/json", 400, "invalid_payload"),  # past the parser's stack
        ("not json", "application/json", 400, "invalid_payload"),
        ('["text"]', "application/json", 400, "invalid_payload"),
        ('{"text": 5}', "application/json", 400, "invalid_payload"),
        ('{"text": "hi", "thread_ts": "yesterday"}', "application/json", 400, "invalid_payload"),
        ('{"text": "hi", "attachments": "no"}', "application/json", 400, "invalid_payload"),
        ("text=hello", "application/x-www-form-urlencoded", 400, "invalid_payload"),
        (b"\xff\xfe{", "application/json", 400, "invalid_payload"),
        ("{}", "application/json", 400, "no_text"),
        ('{"text": "   "}', "application/json", 400, "no_text"),
        (
            '{"text": "hi", "blocks": {"type": "section"}}',
            "application/json",
            400,
            "invalid_blocks",
        ),
        (
            '{"text": "hi", "blocks": [{"text": "no type"}]}',
            "application/json",
            400,
            "invalid_blocks",
        ),
        (
            json.dumps({"text": "hi", "blocks": [{"type": "divider"}] * 51}),
            "application/json",
            400,
            "invalid_blocks",
        ),
        (json.dumps({"text": "x" * 40_001}), "application/json", 400, "msg_too_long"),
        (json.dumps({"text": "x" * 600_000}), "application/json", 413, "invalid_payload"),
        (
            '{"text": "hi", "thread_ts": "1700000000.000001"}',
            "application/json",
            404,
            "thread_not_found",
        ),
    ],
    ids=[
        "nested past the parser's stack",
        "not json",
        "not an object",
        "text not a string",
        "bad thread_ts",
        "attachments not a list",
        "form without payload",
        "not utf-8",
        "no text",
        "blank text",
        "blocks not a list",
        "block without type",
        "51 blocks",
        "text too long",
        "body too large",
        "no such thread",
    ],
)
def test_a_bad_payload_gets_slacks_error_text_with_a_4xx_and_posts_nothing(
    api: Api,
    workspace: dict[str, str],
    hook: dict[str, Any],
    body: str | bytes,
    content_type: str,
    status: int,
    error: str,
) -> None:
    assert send(hook["path"], body, content_type) == (status, error)
    assert history(api, workspace["general"]) == []


def test_an_unknown_revoked_or_orphaned_hook_is_no_service(
    api: Api, workspace: dict[str, str], hook: dict[str, Any]
) -> None:
    for path in ("/hooks/pxh-made-up", "/hooks/xyz"):
        assert send(path, {"text": "hi"}) == (404, "no_service")
    # Slack answers for the URL before it reads the payload.
    assert send("/hooks/pxh-made-up", "not json") == (404, "no_service")
    hook_id = hook["webhook"]["id"]
    assert api("GET", f"/channels/{workspace['general']}/webhooks")[1] == {
        "webhooks": [hook["webhook"]]
    }
    assert api("DELETE", f"/channels/{workspace['general']}/webhooks/{hook_id}")[0] == 204
    assert send(hook["path"], {"text": "hi"}) == (404, "no_service")
    assert api("DELETE", f"/channels/{workspace['general']}/webhooks/{hook_id}")[0] == 404
    # A hook of a deleted app dies with it.
    other, _ = make_hook(api, workspace["general"], hook["app"]["id"])
    assert send(other, {"text": "hi"}) == (200, "ok")
    api("DELETE", f"/apps/{hook['app']['id']}")
    assert send(other, {"text": "hi"}) == (404, "no_service")


def test_a_hook_whose_bot_left_its_channel_is_refused_as_slack_refuses(
    api: Api, workspace: dict[str, str]
) -> None:
    """In a public channel the bot could rejoin: `action_prohibited` (403); a private
    channel no longer exists for it: `channel_not_found` (404)."""
    from parley.adapters.dynamodb import channels as channel_store

    app = install(api, workspace["wid"])["app"]
    _, made = api(
        "POST", f"/workspaces/{workspace['wid']}/channels", body={"name": "ops", "private": True}
    )
    private = made["channel"]["id"]
    public_hook, _ = make_hook(api, workspace["general"], app["id"])
    private_hook, _ = make_hook(api, private, app["id"])
    for cid in (workspace["general"], private):
        assert channel_store.remove_channel_member(cid, app["botUserId"])
    assert send(public_hook, {"text": "hi"}) == (403, "action_prohibited")
    assert send(private_hook, {"text": "hi"}) == (404, "channel_not_found")


def test_a_hook_posting_too_fast_is_rate_limited_with_retry_after(
    api: Api, workspace: dict[str, str], hook: dict[str, Any]
) -> None:
    """The hook posts as its bot, at bots' rate (a burst of 3, then one a second)."""
    answers = [slack_post(hook["path"], {"text": f"n{n}"}) for n in range(4)]
    assert [(status, text) for status, _, text in answers] == [(200, "ok")] * 3 + [
        (429, "rate_limited")
    ]
    assert answers[-1][1]["Retry-After"] == "1"
    assert len(history(api, workspace["general"])) == 3


def test_the_url_is_unguessable_and_only_its_hash_is_stored(
    api: Api, workspace: dict[str, str], hook: dict[str, Any]
) -> None:
    token = hook["path"].removeprefix("/hooks/")
    assert token.startswith("pxh-")
    assert len(token) >= 4 + 43
    stored = repr(boto3.resource("dynamodb").Table(TABLE).scan()["Items"])
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_creating_a_webhook_adds_the_apps_bot_to_the_channel(
    api: Api, workspace: dict[str, str], hook: dict[str, Any]
) -> None:
    _, members = api("GET", f"/channels/{workspace['general']}/members")
    assert hook["app"]["botUserId"] in [m["id"] for m in members["members"]]


def test_only_admins_in_the_channel_make_webhooks(api: Api, workspace: dict[str, str]) -> None:
    app_id = install(api, workspace["wid"])["app"]["id"]
    path = f"/channels/{workspace['general']}/webhooks"
    assert api("POST", path, user=BOB, body={"appId": app_id})[0] == 403
    assert api("POST", path, user=CAROL, body={"appId": app_id})[0] == 404
    assert api("POST", path, body={})[0] == 400
    assert api("POST", path, body={"appId": "A0NOSUCHAPP"})[0] == 404
    _, other = api("POST", "/workspaces", user=CAROL, body={"name": "Other"})
    foreign = install(api, other["workspace"]["id"], user=CAROL)["app"]["id"]
    assert api("POST", path, body={"appId": foreign})[0] == 404
