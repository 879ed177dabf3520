"""A bot on the HTTP API with its token: scopes enforced, only channels it was added to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.conftest import BOB, Api, RecordingPoster, post

ALL_SCOPES = ["chat:write", "channels:read", "channels:history", "reactions:write"]


def install(api: Api, wid: str, scopes: list[str] = ALL_SCOPES) -> dict[str, Any]:
    status, created = api(
        "POST", f"/workspaces/{wid}/apps", body={"name": "Deploys", "scopes": scopes}
    )
    assert status == 201, created
    return {
        "token": created["botToken"],
        "user": created["app"]["botUserId"],
        "id": created["app"]["id"],
    }


def add_to(api: Api, cid: str, bot: dict[str, Any]) -> None:
    status, reply = api("POST", f"/channels/{cid}/members", body={"userIds": [bot["user"]]})
    assert status == 200, reply


def test_a_bot_in_a_channel_posts_and_members_get_it_in_real_time(
    api: Api,
    workspace: dict[str, str],
    connect: Callable[[str, str, str], None],
    poster: RecordingPoster,
) -> None:
    bot = install(api, workspace["wid"])
    add_to(api, workspace["general"], bot)
    connect("conn-bob", BOB, workspace["wid"])
    status, reply = api(
        "POST",
        f"/bot/channels/{workspace['general']}/messages",
        body={"text": "build 12 is live"},
        bot_token=bot["token"],
    )
    assert status == 201, reply
    assert reply["message"]["userId"] == bot["user"]
    delivered = poster.events("conn-bob", "message")
    assert [e["message"]["text"] for e in delivered] == ["build 12 is live"]


def test_a_bot_reads_history_and_reacts_in_its_channels(
    api: Api, workspace: dict[str, str]
) -> None:
    bot = install(api, workspace["wid"])
    add_to(api, workspace["general"], bot)
    ts = post(api, workspace["general"], "ship it?")["ts"]
    status, history = api(
        "GET", f"/bot/channels/{workspace['general']}/messages", bot_token=bot["token"]
    )
    assert status == 200
    assert [m["text"] for m in history["messages"]] == ["ship it?"]
    path = f"/bot/channels/{workspace['general']}/messages/{ts}/reactions/rocket"
    status, reacted = api("PUT", path, bot_token=bot["token"])
    assert status == 200
    assert reacted["message"]["reactions"] == [
        {"name": "rocket", "count": 1, "users": [bot["user"]]}
    ]
    status, removed = api("DELETE", path, bot_token=bot["token"])
    assert removed["message"]["reactions"] == []
    status, listed = api("GET", "/bot/channels", bot_token=bot["token"])
    assert [c["id"] for c in listed["channels"]] == [workspace["general"]]


def test_a_bot_outside_a_channel_sees_nothing_even_a_public_one(
    api: Api, workspace: dict[str, str]
) -> None:
    bot = install(api, workspace["wid"])
    post(api, workspace["general"], "not for bots")
    general = workspace["general"]
    assert api("GET", "/bot/channels", bot_token=bot["token"])[1]["channels"] == []
    for method, path, body in [
        ("GET", f"/bot/channels/{general}/messages", None),
        ("POST", f"/bot/channels/{general}/messages", {"text": "hi"}),
    ]:
        status, reply = api(method, path, body=body, bot_token=bot["token"])
        assert status == 404, reply
        assert reply["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("scopes", "method", "path", "missing"),
    [
        (["channels:read"], "POST", "/bot/channels/{cid}/messages", "chat:write"),
        (["chat:write"], "GET", "/bot/channels/{cid}/messages", "channels:history"),
        (["chat:write"], "GET", "/bot/channels", "channels:read"),
        (
            ["chat:write"],
            "PUT",
            "/bot/channels/{cid}/messages/1732698061.000100/reactions/x",
            "reactions:write",
        ),
    ],
)
def test_a_route_needs_its_scope(
    api: Api, workspace: dict[str, str], scopes: list[str], method: str, path: str, missing: str
) -> None:
    bot = install(api, workspace["wid"], scopes)
    add_to(api, workspace["general"], bot)
    body = {"text": "hi"} if method == "POST" else None
    status, reply = api(
        method, path.format(cid=workspace["general"]), body=body, bot_token=bot["token"]
    )
    assert status == 403, reply
    assert reply["error"]["code"] == "forbidden"
    assert missing in reply["error"]["message"]


def test_a_revoked_or_missing_token_is_401(api: Api, workspace: dict[str, str]) -> None:
    bot = install(api, workspace["wid"])
    add_to(api, workspace["general"], bot)
    api("DELETE", f"/apps/{bot['id']}/token")
    path = f"/bot/channels/{workspace['general']}/messages"
    for token in (bot["token"], "", "not-a-token"):
        status, reply = api("POST", path, body={"text": "hi"}, bot_token=token)
        assert status == 401, reply
        assert reply["error"]["code"] == "unauthorized"


def test_a_user_token_route_does_not_take_a_bot(api: Api, workspace: dict[str, str]) -> None:
    """The user routes read only the JWT authorizer's claims; a bot token there is no one."""
    bot = install(api, workspace["wid"])
    status, _ = api("GET", f"/workspaces/{workspace['wid']}/channels", bot_token=bot["token"])
    assert status == 401
