"""Messages over HTTP: posting, limits, idempotent retries, history paging, delivery scope,
Block Kit blocks."""

from __future__ import annotations

import pytest

from tests.functional.conftest import ALICE, BOB, CAROL, Api, RecordingPoster, post


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
    from parley.adapters.dynamodb import connections

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


# ------------------------------------------------------------------ Block Kit blocks

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Build* passed"}}
BUTTONS = {
    "type": "actions",
    "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "value": "run-7"}
    ],
}


def test_blocks_are_stored_returned_and_delivered_with_the_message(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    cid = workspace["general"]
    connect("bob-1", BOB, workspace["wid"])
    message = post(api, cid, "Build passed", blocks=[SECTION, BUTTONS])
    assert message["blocks"] == [SECTION, BUTTONS]
    _, one = api("GET", f"/channels/{cid}/messages/{message['ts']}", user=BOB)
    _, history = api("GET", f"/channels/{cid}/messages", user=BOB)
    assert one["message"] == history["messages"][0] == message
    assert poster.events("bob-1", "message") == [
        {"type": "message", "channelId": cid, "message": message}
    ]


def test_text_may_be_empty_beside_blocks_as_their_fallback_but_not_alone(
    api: Api, workspace: dict[str, str]
) -> None:
    cid = workspace["general"]
    message = post(api, cid, "", blocks=[SECTION])
    assert (message["text"], message["blocks"]) == ("", [SECTION])
    for body in ({"text": "", "blocks": []}, {"text": " ", "blocks": None}):
        status, reply = api("POST", f"/channels/{cid}/messages", body=body)
        assert (status, reply["error"]["code"]) == (400, "invalid_request"), body


@pytest.mark.parametrize(
    ("blocks", "says"),
    [
        ('[{"type": "section"}]', "blocks: Value error, blocks must be a JSON array of objects"),
        ([SECTION] * 51, "blocks: Value error, blocks has 51 items; the limit is 50"),
        ([SECTION, "divider"], "blocks[1] must be a JSON object"),
        ([{"text": {"type": "plain_text", "text": "x"}}], "blocks[0].type must be a non-empty"),
        ([{"type": ""}], "blocks[0].type must be a non-empty string"),
    ],
)
def test_blocks_of_a_bad_shape_are_a_422_naming_the_problem(
    api: Api, workspace: dict[str, str], blocks: object, says: str
) -> None:
    cid = workspace["general"]
    status, reply = api("POST", f"/channels/{cid}/messages", body={"text": "x", "blocks": blocks})
    assert (status, reply["error"]["code"]) == (422, "invalid_request")
    assert says in reply["error"]["message"]
    _, history = api("GET", f"/channels/{cid}/messages")
    assert history["messages"] == []


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ('{"text": "x", "blocks": [{"type": "s", "t": "a\\ud800"}]}', "lone surrogate"),
        # Python's JSON reader takes NaN, which no JSON writer may send on.
        ('{"text": "x", "blocks": [{"type": "s", "n": NaN}]}', "NaN or infinity"),
    ],
)
def test_blocks_that_json_or_utf8_cannot_carry_on_are_refused_before_they_are_stored(
    api: Api, workspace: dict[str, str], raw: str, says: str
) -> None:
    status, reply = api("POST", f"/channels/{workspace['general']}/messages", raw_body=raw)
    assert (status, reply["error"]["code"]) == (422, "invalid_request")
    assert says in reply["error"]["message"]


def test_blocks_over_their_size_limit_are_a_413_and_nothing_is_stored(
    api: Api, workspace: dict[str, str]
) -> None:
    cid = workspace["general"]
    wide = {"type": "section", "text": {"type": "plain_text", "text": "x" * 1_000}}
    assert "blocks" in post(api, cid, "fits", blocks=[wide] * 45)
    status, reply = api(
        "POST", f"/channels/{cid}/messages", body={"text": "too much", "blocks": [wide] * 50}
    )
    assert (status, reply["error"]["code"]) == (413, "too_large")
    assert "blocks are" in reply["error"]["message"]
    _, history = api("GET", f"/channels/{cid}/messages")
    assert [m["text"] for m in history["messages"]] == ["fits"]


def test_an_edit_keeps_replaces_or_removes_the_blocks(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    cid = workspace["general"]
    connect("bob-1", BOB, workspace["wid"])
    url = f"/channels/{cid}/messages/{post(api, cid, 'v1', blocks=[SECTION])['ts']}"

    for body in ({"text": "v2"}, {"text": "v3", "blocks": None}):  # left out or null: kept
        status, edited = api("PATCH", url, body=body)
        assert (status, edited["message"]["blocks"]) == (200, [SECTION])

    status, edited = api("PATCH", url, body={"text": "", "blocks": [BUTTONS]})
    assert status == 200
    assert (edited["message"]["text"], edited["message"]["blocks"]) == ("", [BUTTONS])
    changed = poster.events("bob-1", "message_changed")[-1]
    assert changed == {"type": "message_changed", "channelId": cid, "message": edited["message"]}

    status, reply = api("PATCH", url, body={"text": "", "blocks": []})  # nothing left to show
    assert (status, reply["error"]["code"]) == (400, "invalid_request")
    status, reply = api("PATCH", url, body={"text": "v4", "blocks": [{"type": 1}]})
    assert (status, reply["error"]["code"]) == (422, "invalid_request")
    assert api("GET", url)[1]["message"]["blocks"] == [BUTTONS]

    status, edited = api("PATCH", url, body={"text": "v5", "blocks": []})
    assert status == 200
    assert "blocks" not in edited["message"]
    assert "blocks" not in api("GET", url)[1]["message"]


def test_a_reaction_name_encoded_in_the_path_is_decoded(
    api: Api, workspace: dict[str, str]
) -> None:
    # A browser encodes "+1" as %2B1 (encodeURIComponent); API Gateway passes the raw path.
    ts = post(api, workspace["general"], "ship it")["ts"]
    path = f"/channels/{workspace['general']}/messages/{ts}/reactions/%2B1"
    status, body = api("PUT", path, user=BOB)
    assert status == 200, body
    assert body["message"]["reactions"] == [{"name": "+1", "count": 1, "users": [BOB]}]
    status, body = api("DELETE", path, user=BOB)
    assert status == 200, body
    assert body["message"]["reactions"] == []
