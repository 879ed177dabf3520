"""Messages over HTTP: posting, limits, idempotent retries, history paging, delivery scope."""

from __future__ import annotations

from tests.unit.conftest import ALICE, BOB, CAROL, Api, RecordingPoster, post


def test_a_posted_message_has_the_api_shape(api: Api, workspace: dict[str, str]) -> None:
    message = post(api, workspace["general"], "hello")
    assert message == {
        "ts": message["ts"],
        "channelId": workspace["general"],
        "userId": ALICE,
        "text": "hello",
        "replyCount": 0,
        "reactions": [],
    }
    status, body = api(
        "GET", f"/channels/{workspace['general']}/messages/{message['ts']}", user=BOB
    )
    assert (status, body["message"]) == (200, message)


def test_history_is_newest_first_and_pages_without_gaps(
    api: Api, workspace: dict[str, str]
) -> None:
    cid = workspace["general"]
    sent = [post(api, cid, f"m{i}")["ts"] for i in range(7)]
    assert sent == sorted(sent)
    assert len(set(sent)) == 7
    seen, cursor = [], None
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        status, body = api("GET", f"/channels/{cid}/messages", query=query)
        assert status == 200
        seen += [m["ts"] for m in body["messages"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == sent[::-1]


def test_oldest_and_latest_bound_history_exclusively(api: Api, workspace: dict[str, str]) -> None:
    cid = workspace["general"]
    sent = [post(api, cid, f"m{i}")["ts"] for i in range(5)]
    _, body = api("GET", f"/channels/{cid}/messages", query={"oldest": sent[0], "latest": sent[4]})
    assert [m["ts"] for m in body["messages"]] == sent[3:0:-1]
    status, body = api("GET", f"/channels/{cid}/messages", query={"oldest": "yesterday"})
    assert status == 422


def test_replies_are_not_top_level_history(api: Api, workspace: dict[str, str]) -> None:
    cid = workspace["general"]
    parent = post(api, cid, "parent")
    reply = post(api, cid, "reply", user=BOB, threadTs=parent["ts"])
    assert reply["threadTs"] == parent["ts"]
    _, body = api("GET", f"/channels/{cid}/messages")
    assert [m["text"] for m in body["messages"]] == ["parent"]
    assert body["messages"][0]["replyCount"] == 1
    status, _ = api(
        "POST", f"/channels/{cid}/messages", body={"text": "x", "threadTs": "1000000000.000000"}
    )
    assert status == 404


def test_text_limits(api: Api, workspace: dict[str, str]) -> None:
    cid = workspace["general"]
    assert post(api, cid, "x" * 40_000)["text"] == "x" * 40_000
    status, body = api("POST", f"/channels/{cid}/messages", body={"text": "x" * 40_001})
    assert (status, body["error"]["code"]) == (413, "too_large")
    for bad in ({"text": "   "}, {}, {"text": 5}, {"text": "ok", "threadTs": "nope"}):
        status, body = api("POST", f"/channels/{cid}/messages", body=bad)
        assert status in (400, 422), bad
        assert body["error"]["code"] == "invalid_request"


def test_a_repeated_client_msg_id_returns_the_first_message(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    cid = workspace["general"]
    connect("conn-bob", BOB, workspace["wid"])
    first = post(api, cid, "once", clientMsgId="retry-1")
    status, again = api(
        "POST", f"/channels/{cid}/messages", body={"text": "once", "clientMsgId": "retry-1"}
    )
    assert status == 200
    assert again["message"] == first
    assert first["clientMsgId"] == "retry-1"
    _, history = api("GET", f"/channels/{cid}/messages")
    assert [m["ts"] for m in history["messages"]] == [first["ts"]]
    assert len(poster.events("conn-bob", "message")) == 1
    other = post(api, cid, "someone else's retry key", user=BOB, clientMsgId="retry-1")
    assert other["ts"] != first["ts"]


def test_posting_needs_channel_membership(api: Api, workspace: dict[str, str]) -> None:
    wid = workspace["wid"]
    _, random = api("POST", f"/workspaces/{wid}/channels", user=BOB, body={"name": "random"})
    status, body = api("POST", f"/channels/{random['channel']['id']}/messages", body={"text": "x"})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, _ = api("GET", f"/channels/{random['channel']['id']}/messages")
    assert status == 200  # a workspace member may read a public channel
    status, _ = api(
        "POST", f"/channels/{workspace['general']}/messages", user=CAROL, body={"text": "x"}
    )
    assert status == 404
    status, _ = api("GET", f"/channels/{workspace['general']}/messages/1000000000.000000")
    assert status == 404


def test_a_message_reaches_every_member_connection_and_nobody_else(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid = workspace["wid"]
    _, secret = api("POST", f"/workspaces/{wid}/channels", body={"name": "secret", "private": True})
    cid = secret["channel"]["id"]
    api("POST", f"/channels/{cid}/members", body={"userIds": [BOB]})
    _, other = api("POST", "/workspaces", user=CAROL, body={"name": "Elsewhere"})
    for conn, user, ws in [
        ("alice-1", ALICE, wid),
        ("alice-2", ALICE, wid),
        ("bob-1", BOB, wid),
        ("carol-1", CAROL, other["workspace"]["id"]),
    ]:
        connect(conn, user, ws)
    _, invite = api("POST", f"/workspaces/{wid}/invites")
    api("POST", f"/invites/{invite['invite']['code']}/accept", user=CAROL)
    connect("carol-2", CAROL, wid)

    message = post(api, cid, "for members only", user=BOB)
    expected = {"type": "message", "channelId": cid, "message": message}
    for conn in ("alice-1", "alice-2", "bob-1"):
        assert poster.events(conn, "message") == [expected], conn
    for conn in ("carol-1", "carol-2"):
        assert poster.events(conn, "message") == [], conn


def test_a_gone_connection_is_pruned_and_the_rest_still_receive(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    from parley.store import connections

    wid, cid = workspace["wid"], workspace["general"]
    connect("bob-live", BOB, wid)
    connect("bob-dead", BOB, wid)
    poster.gone.add("bob-dead")
    post(api, cid, "first")
    assert len(poster.events("bob-live", "message")) == 1
    assert connections.get_connection("bob-dead") is None
    assert set(connections.live_connections(wid, [BOB])) == {"bob-live"}


def test_text_with_a_lone_surrogate_is_refused_before_it_is_stored(
    api: Api, workspace: dict[str, str]
) -> None:
    raw = '{"text": "a\\ud800b"}'  # valid JSON, but no UTF-8 store can hold it
    status, reply = api("POST", f"/channels/{workspace['general']}/messages", raw_body=raw)
    assert status == 422
    assert "surrogate" in reply["error"]["message"]
