"""Presence and typing: transitions, subscription scoping, typing scope and throttle."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.conftest import (
    ALICE,
    BOB,
    CAROL,
    Api,
    Context,
    RecordingPoster,
    load_function,
    sample_event,
    ws_event,
)


def presence(api: Api, wid: str, *users: str) -> dict[str, str]:
    status, body = api("GET", f"/workspaces/{wid}/presence", query={"userIds": ",".join(users)})
    assert status == 200, body
    return body["presence"]  # type: ignore[no-any-return]


def frame(function: str, sample: str, conn: str, user: str, wid: str, body: Any) -> dict[str, Any]:
    reply = load_function(function).lambda_handler(
        ws_event(sample, conn, user, wid, body), Context()
    )
    return json.loads(reply["body"])  # type: ignore[no-any-return]


def subscribe(conn: str, user: str, wid: str, users: list[str]) -> dict[str, Any]:
    body = {"action": "subscribePresence", "id": "s", "userIds": users}
    return frame("ws_subscribe_presence", "ws_subscribe_presence.json", conn, user, wid, body)


def disconnect(conn: str) -> None:
    event = sample_event("ws_disconnect.json")
    event["requestContext"]["connectionId"] = conn
    load_function("ws_disconnect").lambda_handler(event, Context())


def changes(poster: RecordingPoster, conn: str) -> list[tuple[str, str]]:
    return [(e["userId"], e["presence"]) for e in poster.events(conn, "presence_change")]


def test_presence_follows_connections_and_reaches_only_subscribers(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid = workspace["wid"]
    connect("alice-1", ALICE, wid)
    connect("bob-watch", BOB, wid)
    connect("bob-other", BOB, wid)
    assert subscribe("alice-1", ALICE, wid, [BOB, CAROL])["presence"] == {
        BOB: "active",
        CAROL: "away",
    }
    assert presence(api, wid, ALICE, BOB) == {ALICE: "active", BOB: "active"}
    disconnect("bob-watch")  # one of two connections: still active
    assert presence(api, wid, BOB) == {BOB: "active"}
    disconnect("bob-other")
    assert presence(api, wid, BOB) == {BOB: "away"}
    connect("bob-again", BOB, wid)
    assert changes(poster, "alice-1") == [(BOB, "away"), (BOB, "active")]
    assert changes(poster, "bob-again") == []  # nobody subscribed Bob to anything


def test_manual_away_and_heartbeat_expiry(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster, monkeypatch
) -> None:
    from parley.domain import presence as domain

    wid = workspace["wid"]
    connect("alice-1", ALICE, wid)
    connect("bob-1", BOB, wid)
    subscribe("alice-1", ALICE, wid, [BOB])
    assert api("PUT", "/me/presence", user=BOB, body={"status": "away"})[0] == 204
    assert presence(api, wid, BOB) == {BOB: "away"}
    assert api("PUT", "/me/presence", user=BOB, body={"status": "auto"})[0] == 204
    assert presence(api, wid, BOB) == {BOB: "active"}
    assert changes(poster, "alice-1") == [(BOB, "away"), (BOB, "active")]
    assert api("PUT", "/me/presence", body={"status": "busy"})[0] == 422
    real_time = domain.time.time
    monkeypatch.setattr(
        domain.time, "time", lambda: real_time() + domain.PRESENCE_TIMEOUT_SECONDS + 5
    )
    assert presence(api, wid, BOB) == {BOB: "away"}  # no heartbeat for too long
    ping = {"action": "ping", "id": "p"}
    assert frame("ws_ping", "ws_ping.json", "bob-1", BOB, wid, ping)["type"] == "pong"
    assert presence(api, wid, BOB) == {BOB: "active"}


def test_presence_of_outsiders_is_not_told(api: Api, workspace: dict[str, str]) -> None:
    wid = workspace["wid"]
    assert presence(api, wid, ALICE, CAROL) == {ALICE: "away"}
    assert api("GET", f"/workspaces/{wid}/presence", user=CAROL, query={"userIds": ALICE})[0] == 404


def test_typing_reaches_the_other_members_only_and_is_throttled(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    _, secret = api("POST", f"/workspaces/{wid}/channels", body={"name": "secret", "private": True})
    private = secret["channel"]["id"]
    connect("alice-1", ALICE, wid)
    connect("alice-2", ALICE, wid)
    connect("bob-1", BOB, wid)
    typing = {"action": "typing", "channelId": cid, "threadTs": "1700000000.000001"}
    reply = frame("ws_typing", "ws_typing.json", "alice-1", ALICE, wid, typing)
    assert (reply["type"], reply["sent"]) == ("ack", True)
    again = frame("ws_typing", "ws_typing.json", "alice-1", ALICE, wid, typing)
    assert again["sent"] is False  # dropped quietly within the interval
    assert poster.events("bob-1", "user_typing") == [
        {"type": "user_typing", "channelId": cid, "userId": ALICE, "threadTs": "1700000000.000001"}
    ]
    assert poster.events("alice-1", "user_typing") == []
    assert poster.events("alice-2", "user_typing") == []
    outside = frame(
        "ws_typing", "ws_typing.json", "bob-1", BOB, wid, {"action": "typing", "channelId": private}
    )
    assert outside["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"action": "subscribePresence", "id": 1},
        {"action": "subscribePresence", "id": 1, "userIds": "bob"},
        {"action": "subscribePresence", "id": 1, "userIds": [f"u{i}" for i in range(101)]},
    ],
)
def test_bad_presence_subscriptions_get_error_frames(
    workspace: dict[str, str], connect, body: dict[str, Any]
) -> None:
    connect("alice-1", ALICE, workspace["wid"])
    reply = frame(
        "ws_subscribe_presence",
        "ws_subscribe_presence.json",
        "alice-1",
        ALICE,
        workspace["wid"],
        body,
    )
    assert (reply["type"], reply["replyTo"]) == ("error", 1)
