"""Presence and typing: transitions, subscription scoping, typing scope and throttle."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.functional.conftest import (
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
from tests.functional.test_fanout_cost import counted_requests

TIMEOUT_S = 600  # the default presence timeout (Settings.presence_timeout_seconds)


def presence(api: Api, wid: str, *users: str) -> dict[str, str]:
    status, body = api("GET", f"/workspaces/{wid}/presence", query={"userIds": ",".join(users)})
    assert status == 200, body
    return body["presence"]  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def frame(function: str, sample: str, conn: str, user: str, wid: str, body: Any) -> dict[str, Any]:
    reply = load_function(function).lambda_handler(
        ws_event(sample, conn, user, wid, body), Context()
    )
    return json.loads(reply["body"])  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


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
    alice_watches_bob(connect, wid)
    assert api("PUT", "/me/presence", user=BOB, body={"status": "away"})[0] == 204
    assert presence(api, wid, BOB) == {BOB: "away"}
    assert api("PUT", "/me/presence", user=BOB, body={"status": "auto"})[0] == 204
    assert presence(api, wid, BOB) == {BOB: "active"}
    assert changes(poster, "alice-1") == [(BOB, "away"), (BOB, "active")]
    assert api("PUT", "/me/presence", body={"status": "busy"})[0] == 422
    real_time = domain.time.time
    monkeypatch.setattr(domain.time, "time", lambda: real_time() + TIMEOUT_S + 5)
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


# ------------------------------------------------------------------ the sweep


def alice_watches_bob(connect, wid: str) -> None:
    """Both connected; Alice's connection subscribed to Bob's presence."""
    connect("alice-1", ALICE, wid)
    connect("bob-1", BOB, wid)
    subscribe("alice-1", ALICE, wid, [BOB])


def sweep(at: float) -> int:
    """Runs the scheduled sweep as EventBridge would, with the clock at `at`."""
    from parley.domain import presence as domain

    real_time = domain.time.time
    domain.time.time = lambda: at  # type: ignore[assignment]  # the test freezes the domain's clock
    try:
        reply = load_function("presence_sweep").lambda_handler(
            sample_event("presence_sweep.json"), Context()
        )
    finally:
        domain.time.time = real_time  # type: ignore[assignment]  # restores the clock
    return int(reply["announced"])


def test_presence_transitions_reach_a_subscriber_including_heartbeat_expiry(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    """connect, second connection, disconnect of one, of both, expiry, manual away."""
    import time

    wid = workspace["wid"]
    connect("alice-1", ALICE, wid)
    subscribe("alice-1", ALICE, wid, [BOB])
    connect("bob-1", BOB, wid)  # away -> active
    connect("bob-2", BOB, wid)  # still active: nothing to announce
    disconnect("bob-1")  # one of two: still active
    assert changes(poster, "alice-1") == [(BOB, "active")]
    disconnect("bob-2")  # the last one: away
    connect("bob-3", BOB, wid)  # active again
    assert changes(poster, "alice-1") == [(BOB, "active"), (BOB, "away"), (BOB, "active")]

    assert sweep(time.time() + 60) == 0  # within the timeout: nothing expired
    later = time.time() + TIMEOUT_S + 61
    assert sweep(later) == 2  # no ping from Alice or Bob for too long: the sweep tells
    assert changes(poster, "alice-1")[-1] == (BOB, "away")
    assert sweep(later) == 0  # a second (or overlapping) run announces nothing again
    assert sweep(later + 60) == 0
    assert len(changes(poster, "alice-1")) == 4

    ping = {"action": "ping", "id": "p"}
    frame("ws_ping", "ws_ping.json", "bob-3", BOB, wid, ping)  # a sign of life: active
    assert api("PUT", "/me/presence", user=BOB, body={"status": "away"})[0] == 204
    assert changes(poster, "alice-1")[-2:] == [(BOB, "active"), (BOB, "away")]
    assert changes(poster, "bob-3") == []  # nobody subscribed Bob to anything


def test_the_sweep_announces_no_stale_away_after_a_late_ping(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    """A ping lands between the sweep's read of the index and its claim: no `away`."""
    import time

    from parley.adapters.dynamodb import presence as store
    from parley.wiring import configured

    wid = workspace["wid"]
    alice_watches_bob(connect, wid)
    configured()
    later = int(time.time()) + TIMEOUT_S + 61
    [expired] = [h for h in store.expired(later, 15) if h.user_id == BOB]
    store.seen(BOB, wid, later - 10, TIMEOUT_S)  # the ping, just before the sweep's time
    assert store.claim_expiry(expired) is False
    assert changes(poster, "alice-1") == []
    assert sweep(later) == 1  # Alice's own heartbeat; Bob's expires 10 minutes later
    assert changes(poster, "alice-1") == []


def test_the_sweep_after_a_disconnect_only_tidies_up(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    import time

    wid = workspace["wid"]
    alice_watches_bob(connect, wid)
    disconnect("bob-1")
    assert changes(poster, "alice-1") == [(BOB, "away")]
    later = time.time() + TIMEOUT_S + 61
    assert sweep(later) == 1  # Alice's heartbeat only: Bob's away was already told
    assert changes(poster, "alice-1") == [(BOB, "away")]
    assert sweep(later) == 0  # and both left the expiry index


def test_the_sweep_reads_only_expiry_buckets_whatever_else_the_table_holds(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    """Its cost is one Query per minute of lookback plus the expired heartbeats' own work;
    live users, connections and messages elsewhere add nothing."""
    import time

    from parley.domain.presence import SWEEP_LOOKBACK_MINUTES

    wid = workspace["wid"]
    for n in range(20):
        connect(f"busy-{n}", f"u-busy-{n:04d}", wid)  # heartbeats that have not expired
    with counted_requests() as counts:
        assert sweep(time.time() + 60) == 0
    assert counts == {"Query": SWEEP_LOOKBACK_MINUTES + 1}


def test_get_presence_and_the_sweep_agree_on_the_second_a_heartbeat_expires(
    api: Api, workspace: dict[str, str], connect, monkeypatch
) -> None:
    """A heartbeat seen at t: active through t + timeout - 1, away from t + timeout on, in
    the route and in the sweep's expiry index alike (they once disagreed for that second)."""
    from parley.adapters.dynamodb import presence as store
    from parley.domain import presence as domain
    from parley.wiring import configured

    wid = workspace["wid"]
    seen_at = 1_900_000_000
    monkeypatch.setattr(domain.time, "time", lambda: seen_at)
    connect("bob-1", BOB, wid)
    configured()
    for now in (seen_at + TIMEOUT_S - 1, seen_at + TIMEOUT_S, seen_at + TIMEOUT_S + 1):
        expired = any(h.user_id == BOB for h in store.expired(now, 15))
        status = domain.statuses(wid, [BOB], timeout_s=TIMEOUT_S, now=now)[BOB]
        assert (status, expired) == (
            ("away", True) if now >= seen_at + TIMEOUT_S else ("active", False)
        )
