"""Read state: markers, unread and mention counts, followed threads, channel_marked."""

from __future__ import annotations

import json

from tests.functional.conftest import (
    ALICE,
    BOB,
    CAROL,
    Api,
    Context,
    RecordingPoster,
    load_function,
    post,
    ws_event,
)


def unreads(api: Api, wid: str, user: str) -> dict:
    status, body = api("GET", f"/workspaces/{wid}/unreads", user=user)
    assert status == 200, body
    return body  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def channel_counts(api: Api, wid: str, cid: str, user: str) -> tuple[int, int]:
    row = next(c for c in unreads(api, wid, user)["channels"] if c["channelId"] == cid)
    return row["unreadCount"], row["mentionCount"]


def test_unread_and_mention_counts_follow_the_marker(api: Api, workspace: dict[str, str]) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    assert channel_counts(api, wid, cid, BOB) == (0, 0)  # what came before joining is read
    post(api, cid, "plain")
    post(api, cid, f"hey <@{BOB}>")
    post(api, cid, "<!channel> deploy at 5")
    post(api, cid, f"for <@{CAROL}|carol>")
    post(api, cid, "my own words", user=BOB)
    assert channel_counts(api, wid, cid, BOB) == (4, 2)
    assert channel_counts(api, wid, cid, ALICE) == (1, 0)
    last = post(api, cid, "latest")
    assert api("POST", f"/channels/{cid}/read", user=BOB, body={"ts": last["ts"]})[0] == 204
    assert channel_counts(api, wid, cid, BOB) == (0, 0)
    row = next(c for c in unreads(api, wid, BOB)["channels"] if c["channelId"] == cid)
    assert row["lastReadTs"] == last["ts"]


def test_every_unread_dm_message_counts_as_a_mention(api: Api, workspace: dict[str, str]) -> None:
    wid = workspace["wid"]
    _, dm = api("POST", f"/workspaces/{wid}/dms", body={"userIds": [BOB]})
    post(api, dm["channel"]["id"], "are you around?")
    post(api, dm["channel"]["id"], "no rush")
    assert channel_counts(api, wid, dm["channel"]["id"], BOB) == (2, 2)
    assert channel_counts(api, wid, dm["channel"]["id"], ALICE) == (0, 0)
    post(api, workspace["general"], "plain, in a channel")
    assert channel_counts(api, wid, workspace["general"], BOB)[1] == 0


def test_here_counts_only_for_those_active_when_it_was_sent(
    api: Api, workspace: dict[str, str], connect
) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    _, invite = api("POST", f"/workspaces/{wid}/invites")
    api("POST", f"/invites/{invite['invite']['code']}/accept", user=CAROL)
    connect("bob-1", BOB, wid)  # Bob is active, Carol is not
    post(api, cid, "<!here> standup")
    assert channel_counts(api, wid, cid, BOB) == (1, 1)
    assert channel_counts(api, wid, cid, CAROL) == (1, 0)


def test_marking_read_tells_the_callers_other_connections(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    connect("bob-phone", BOB, wid)
    connect("bob-laptop", BOB, wid)
    connect("alice-1", ALICE, wid)
    ts = post(api, cid, "read me")["ts"]
    frame = {"action": "markRead", "id": "r1", "channelId": cid, "ts": ts}
    reply = load_function("ws_mark_read").lambda_handler(
        ws_event("ws_mark_read.json", "bob-laptop", BOB, wid, frame), Context()
    )
    assert json.loads(reply["body"]) == {"type": "ack", "replyTo": "r1", "ok": True}
    marked = {"type": "channel_marked", "channelId": cid, "ts": ts}
    assert poster.events("bob-phone", "channel_marked") == [marked]
    assert poster.events("bob-laptop", "channel_marked") == []
    assert poster.events("alice-1", "channel_marked") == []


def test_bad_read_markers_are_refused(api: Api, workspace: dict[str, str]) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    for body in ({}, {"ts": "yesterday"}, {"ts": 5}):
        assert api("POST", f"/channels/{cid}/read", body=body)[0] == 422, body
    assert (
        api("POST", f"/channels/{cid}/read", user=CAROL, body={"ts": "1700000000.000000"})[0] == 404
    )
    for frame in (
        {"action": "markRead", "id": 1, "channelId": cid},
        {"action": "markRead", "id": 1, "channelId": "CNOPE", "ts": "1700000000.000000"},
    ):
        reply = load_function("ws_mark_read").lambda_handler(
            ws_event("ws_mark_read.json", "c", ALICE, wid, frame), Context()
        )
        assert json.loads(reply["body"])["type"] == "error"


def test_followed_threads_have_their_own_markers(api: Api, workspace: dict[str, str]) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    first = post(api, cid, "thread one", user=BOB)
    second = post(api, cid, "thread two", user=BOB)
    post(api, cid, "in one", threadTs=first["ts"])  # Alice follows both by replying
    post(api, cid, "in two", threadTs=second["ts"])
    assert unreads(api, wid, ALICE)["threads"] == []
    post(api, cid, "more in one", user=BOB, threadTs=first["ts"])
    last_in_two = post(api, cid, "more in two", user=BOB, threadTs=second["ts"])
    threads = {t["threadTs"]: t["unreadReplies"] for t in unreads(api, wid, ALICE)["threads"]}
    assert threads == {first["ts"]: 1, second["ts"]: 1}
    # Bob, the parents' author, follows them too: Alice's replies are unread to him.
    bob_threads = {t["threadTs"]: t["unreadReplies"] for t in unreads(api, wid, BOB)["threads"]}
    assert bob_threads == {first["ts"]: 1, second["ts"]: 1}
    path = f"/channels/{cid}/threads/{second['ts']}/read"
    assert api("POST", path, body={"ts": last_in_two["ts"]})[0] == 204
    threads = {t["threadTs"]: t["unreadReplies"] for t in unreads(api, wid, ALICE)["threads"]}
    assert threads == {first["ts"]: 1}
    assert (
        api(
            "POST",
            f"/channels/{cid}/threads/1000000000.000000/read",
            body={"ts": last_in_two["ts"]},
        )[0]
        == 404
    )
