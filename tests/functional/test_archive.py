"""Archiving a channel (API.md, "Team features"): its creator or a workspace admin archives
and unarchives it; while archived it keeps its history but takes no new messages, reactions
or members (409 `conflict`), over HTTP and the WebSocket alike, since the domain's write
paths refuse it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.functional.conftest import ALICE, BOB, CAROL, Api, RecordingPoster, post
from tests.functional.test_websocket import send


def channel(api: Api, wid: str, user: str = ALICE, **body: Any) -> str:
    status, made = api(
        "POST", f"/workspaces/{wid}/channels", user=user, body={"name": "launch", **body}
    )
    assert status == 201, made
    return made["channel"]["id"]  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def archive(api: Api, cid: str, user: str = ALICE, undo: bool = False) -> tuple[int, Any]:
    return api("POST", f"/channels/{cid}/{'unarchive' if undo else 'archive'}", user=user)


def test_the_creator_archives_and_unarchives_and_members_hear_of_it(
    api: Api, workspace: dict[str, str], connect: Callable[..., None], poster: RecordingPoster
) -> None:
    wid = workspace["wid"]
    cid = channel(api, wid, user=BOB)
    connect("alice-1", ALICE, wid)
    status, archived = archive(api, cid, user=BOB)
    assert status == 200, archived
    assert (archived["channel"]["id"], archived["channel"]["isArchived"]) == (cid, True)
    assert api("GET", f"/channels/{cid}")[1]["channel"]["isArchived"] is True
    [event] = poster.events("alice-1", "channel_archived")
    assert (event["channel"]["id"], event["channel"]["isArchived"], event["userId"]) == (
        cid,
        True,
        BOB,
    )
    status, unarchived = archive(api, cid, user=BOB, undo=True)
    assert status == 200, unarchived
    assert unarchived["channel"]["isArchived"] is False
    [event] = poster.events("alice-1", "channel_unarchived")
    assert event["channel"]["isArchived"] is False


def test_who_may_archive(api: Api, workspace: dict[str, str]) -> None:
    wid = workspace["wid"]
    by_alice = channel(api, wid)
    assert api("POST", f"/channels/{by_alice}/join", user=BOB)[0] == 200
    assert archive(api, by_alice, user=BOB)[1]["error"]["code"] == "forbidden"  # a member
    assert archive(api, by_alice, user=CAROL)[0] == 404  # outside the workspace
    by_bob = channel(api, wid, user=BOB, name="bobs")
    assert archive(api, by_bob)[0] == 200  # Alice is a workspace admin
    # A private channel exists only for its members, a workspace admin's too.
    secret = channel(api, wid, user=BOB, name="secret", private=True)
    assert archive(api, secret)[0] == 404
    assert api("POST", f"/channels/{secret}/members", user=BOB, body={"userIds": [ALICE]})[0] == 200
    assert archive(api, secret)[0] == 200  # once in it, the admin may


def test_general_and_dms_are_never_archived(api: Api, workspace: dict[str, str]) -> None:
    status, reply = archive(api, workspace["general"])
    assert (status, reply["error"]["code"]) == (403, "forbidden")
    _, dm = api("POST", f"/workspaces/{workspace['wid']}/dms", body={"userIds": [BOB]})
    assert archive(api, dm["channel"]["id"])[0] == 403


def test_archiving_twice_or_unarchiving_an_open_channel_is_a_conflict(
    api: Api, workspace: dict[str, str]
) -> None:
    cid = channel(api, workspace["wid"])
    assert archive(api, cid, undo=True)[1]["error"]["code"] == "conflict"
    assert archive(api, cid)[0] == 200
    status, reply = archive(api, cid)
    assert (status, reply["error"]["code"]) == (409, "conflict")


def test_an_archived_channel_keeps_its_history_and_takes_nothing_new(
    api: Api, workspace: dict[str, str], connect: Callable[..., None], poster: RecordingPoster
) -> None:
    wid = workspace["wid"]
    cid = channel(api, wid)
    assert api("POST", f"/channels/{cid}/join", user=BOB)[0] == 200
    ts = post(api, cid, "before the archive")["ts"]
    assert archive(api, cid)[0] == 200
    writes = [
        ("POST", f"/channels/{cid}/messages", {"text": "after"}),
        ("POST", f"/channels/{cid}/messages", {"text": "a reply", "threadTs": ts}),
        ("PATCH", f"/channels/{cid}/messages/{ts}", {"text": "edited"}),
        ("PUT", f"/channels/{cid}/messages/{ts}/reactions/eyes", None),
        ("DELETE", f"/channels/{cid}/messages/{ts}/reactions/eyes", None),
        ("PUT", f"/channels/{cid}/pins/{ts}", None),
        ("POST", f"/channels/{cid}/bookmarks", {"title": "x", "link": "https://example.com"}),
        ("PATCH", f"/channels/{cid}", {"topic": "new"}),
    ]
    for method, path, body in writes:
        status, reply = api(method, path, body=body)
        assert (status, reply["error"]["code"]) == (409, "conflict"), (method, path, reply)
    status, reply = api("POST", f"/channels/{cid}/members", body={"userIds": [CAROL]})
    assert status in (404, 409), reply  # Carol is no workspace member: 404 before anything
    _, invite = api("POST", f"/workspaces/{wid}/invites")
    assert api("POST", f"/invites/{invite['invite']['code']}/accept", user=CAROL)[0] == 200
    status, reply = api("POST", f"/channels/{cid}/members", body={"userIds": [CAROL]})
    assert (status, reply["error"]["code"]) == (409, "conflict")
    assert api("POST", f"/channels/{cid}/join", user=CAROL)[0] == 409

    # The WebSocket's send path refuses it with an error frame, the connection open.
    connect("bob-1", BOB, wid)
    frame = send(
        "bob-1", BOB, wid, {"action": "sendMessage", "id": "s1", "channelId": cid, "text": "hi"}
    )
    assert frame["type"] == "error"
    assert frame["replyTo"] == "s1"
    assert frame["error"]["code"] == "conflict"

    # History stays; reading, leaving and deleting still work.
    _, history = api("GET", f"/channels/{cid}/messages", user=BOB)
    assert [m["text"] for m in history["messages"]] == ["before the archive"]
    assert api("POST", f"/channels/{cid}/read", user=BOB, body={"ts": ts})[0] == 204
    assert api("POST", f"/channels/{cid}/leave", user=BOB)[0] == 204

    assert archive(api, cid, undo=True)[0] == 200
    assert post(api, cid, "back again")["text"] == "back again"
    assert api("PUT", f"/channels/{cid}/messages/{ts}/reactions/eyes")[0] == 200
    assert api("POST", f"/channels/{cid}/join", user=BOB)[0] == 200


def test_a_private_channel_announces_its_archiving_to_its_members_only(
    api: Api, workspace: dict[str, str], connect: Callable[..., None], poster: RecordingPoster
) -> None:
    wid = workspace["wid"]
    cid = channel(api, wid, name="quiet", private=True)
    connect("bob-1", BOB, wid)
    connect("alice-1", ALICE, wid)
    assert archive(api, cid)[0] == 200
    assert poster.events("bob-1", "channel_archived") == []
    assert len(poster.events("alice-1", "channel_archived")) == 1
