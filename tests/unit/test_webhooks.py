"""Incoming webhooks: an unguessable URL per channel posting as an app's bot."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.unit.conftest import ALICE, BOB, CAROL, TABLE, Api, RecordingPoster, post


def install(api: Api, wid: str, user: str = ALICE) -> dict[str, Any]:
    body = {"name": "CI", "scopes": ["chat:write"]}
    status, created = api("POST", f"/workspaces/{wid}/apps", user=user, body=body)
    assert status == 201, created
    return created  # type: ignore[no-any-return]


def make_hook(api: Api, cid: str, app_id: str) -> tuple[str, dict[str, Any]]:
    """The hook's path (/hooks/<token>) and its description."""
    status, created = api("POST", f"/channels/{cid}/webhooks", body={"appId": app_id})
    assert status == 201, created
    url = created["url"]
    return url[url.index("/hooks/") :], created["webhook"]


def send(api: Api, path: str, body: Any = None, raw: str | None = None) -> tuple[int, Any]:
    return api("POST", path, body=body, raw_body=raw, anonymous=True)


@pytest.fixture
def hook(api: Api, workspace: dict[str, str]) -> dict[str, Any]:
    app = install(api, workspace["wid"])["app"]
    path, webhook = make_hook(api, workspace["general"], app["id"])
    return {"path": path, "webhook": webhook, "app": app}


def test_a_webhook_posts_as_the_bot_in_real_time(
    api: Api,
    workspace: dict[str, str],
    hook: dict[str, Any],
    connect: Callable[[str, str, str], None],
    poster: RecordingPoster,
) -> None:
    connect("conn-bob", BOB, workspace["wid"])
    status, reply = send(api, hook["path"], {"text": "deploy 42 done"})
    assert status == 201, reply
    assert reply["message"]["userId"] == hook["app"]["botUserId"]
    assert reply["message"]["channelId"] == workspace["general"]
    assert [e["message"]["text"] for e in poster.events("conn-bob", "message")] == [
        "deploy 42 done"
    ]
    parent = post(api, workspace["general"], "what broke?")
    status, reply = send(api, hook["path"], {"text": "nothing", "threadTs": parent["ts"]})
    assert status == 201, reply
    assert reply["message"]["threadTs"] == parent["ts"]


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


@pytest.mark.parametrize(
    ("raw", "status", "says"),
    [
        ("not json", 400, "JSON"),
        ('["text"]', 400, "object"),
        ("{}", 400, "empty"),  # text defaults to empty (a message may share only files)
        ('{"text": 5}', 422, "text"),
        ('{"text": "   "}', 400, "empty"),
        ('{"text": "hi", "threadTs": "yesterday"}', 422, "threadTs"),
        (json.dumps({"text": "x" * 40_001}), 413, "limit"),
        (json.dumps({"text": "x" * 600_000}), 413, "limit"),
    ],
    ids=[
        "not json",
        "not an object",
        "no text",
        "text not a string",
        "blank text",
        "bad threadTs",
        "text too long",
        "body too large",
    ],
)
def test_bad_payloads_get_a_clear_4xx(
    api: Api, hook: dict[str, Any], raw: str, status: int, says: str
) -> None:
    got, reply = send(api, hook["path"], raw=raw)
    assert got == status, reply
    assert says in reply["error"]["message"]


def test_an_unknown_revoked_or_orphaned_hook_is_404(
    api: Api, workspace: dict[str, str], hook: dict[str, Any]
) -> None:
    for path in ("/hooks/pxh-made-up", "/hooks/xyz"):
        status, reply = send(api, path, {"text": "hi"})
        assert status == 404, reply
    hook_id = hook["webhook"]["id"]
    assert api("GET", f"/channels/{workspace['general']}/webhooks")[1] == {
        "webhooks": [hook["webhook"]]
    }
    assert api("DELETE", f"/channels/{workspace['general']}/webhooks/{hook_id}")[0] == 204
    assert send(api, hook["path"], {"text": "hi"})[0] == 404
    assert api("DELETE", f"/channels/{workspace['general']}/webhooks/{hook_id}")[0] == 404
    # A hook of a deleted app dies with it.
    other, _ = make_hook(api, workspace["general"], hook["app"]["id"])
    assert send(api, other, {"text": "hi"})[0] == 201
    api("DELETE", f"/apps/{hook['app']['id']}")
    assert send(api, other, {"text": "hi"})[0] == 404


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


def test_a_bot_makes_a_webhook_for_a_channel_it_is_in(api: Api, workspace: dict[str, str]) -> None:
    created = install(api, workspace["wid"])
    token, bot = created["botToken"], created["app"]["botUserId"]
    path = f"/bot/channels/{workspace['general']}/webhooks"
    assert api("POST", path, bot_token=token)[0] == 404  # not in #general yet
    api("POST", f"/channels/{workspace['general']}/members", body={"userIds": [bot]})
    status, made = api("POST", path, bot_token=token)
    assert status == 201, made
    hook_path = made["url"][made["url"].index("/hooks/") :]
    status, reply = send(api, hook_path, {"text": "from my own hook"})
    assert status == 201, reply
    assert reply["message"]["userId"] == bot
