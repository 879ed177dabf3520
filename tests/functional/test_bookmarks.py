"""Channel bookmarks (API.md, "Team features"): members add, change and remove links of
http or https only; whoever sees the channel lists them; each change reaches the channel's
members' connections; a private channel's bookmarks do not exist for anyone else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.functional.conftest import ALICE, BOB, CAROL, Api, RecordingPoster


def add(api: Api, cid: str, user: str = ALICE, **body: Any) -> tuple[int, Any]:
    body = {"title": "Runbook", "link": "https://wiki.example.com/runbook", **body}
    return api("POST", f"/channels/{cid}/bookmarks", user=user, body=body)


def private_channel(api: Api, wid: str) -> str:
    status, made = api("POST", f"/workspaces/{wid}/channels", body={"name": "ops", "private": True})
    assert status == 201, made
    return made["channel"]["id"]  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def test_a_member_adds_lists_changes_and_removes_a_bookmark(
    api: Api, workspace: dict[str, str], connect: Callable[..., None], poster: RecordingPoster
) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    connect("bob-1", BOB, wid)
    status, added = add(api, cid, emoji=":book:")
    assert status == 201, added
    bookmark = added["bookmark"]
    assert set(bookmark) == {"id", "channelId", "title", "link", "emoji", "createdBy"}
    assert (bookmark["channelId"], bookmark["title"], bookmark["emoji"], bookmark["createdBy"]) == (
        cid,
        "Runbook",
        ":book:",
        ALICE,
    )
    [event] = poster.events("bob-1", "bookmark_added")
    assert event == {"type": "bookmark_added", "channelId": cid, "bookmark": bookmark}
    status, second = add(api, cid, user=BOB, title="Board", link="http://board.example.com/x")
    assert status == 201, second
    assert "emoji" not in second["bookmark"]
    status, listed = api("GET", f"/channels/{cid}/bookmarks", user=BOB)
    assert status == 200, listed
    assert [b["title"] for b in listed["bookmarks"]] == ["Runbook", "Board"]

    bid = bookmark["id"]
    status, changed = api("PATCH", f"/bookmarks/{bid}", user=BOB, body={"title": "Runbook v2"})
    assert status == 200, changed
    assert (changed["bookmark"]["title"], changed["bookmark"]["emoji"]) == ("Runbook v2", ":book:")
    assert poster.events("bob-1", "bookmark_changed")[0]["bookmark"] == changed["bookmark"]
    status, cleared = api("PATCH", f"/bookmarks/{bid}", body={"emoji": None})
    assert status == 200
    assert "emoji" not in cleared["bookmark"]

    assert api("DELETE", f"/bookmarks/{bid}", user=BOB)[0] == 204
    [removed] = poster.events("bob-1", "bookmark_removed")
    assert (removed["channelId"], removed["bookmark"]["id"]) == (cid, bid)
    assert [b["title"] for b in api("GET", f"/channels/{cid}/bookmarks")[1]["bookmarks"]] == [
        "Board"
    ]
    assert api("DELETE", f"/bookmarks/{bid}")[0] == 404
    assert api("PATCH", f"/bookmarks/{bid}", body={"title": "x"})[0] == 404


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "ftp://files.example.com/a",
        "file:///etc/passwd",
        "data:text/html,hi",
        "mailto:a@example.com",
        "//example.com/no-scheme",
        "wiki.example.com/runbook",
        "https://",
        "https://exa mple.com/",
        "",
        "https://example.com/" + "a" * 2000,
    ],
)
def test_a_link_that_is_not_http_or_https_is_a_400(
    api: Api, workspace: dict[str, str], link: str
) -> None:
    cid = workspace["general"]
    status, reply = add(api, cid, link=link)
    assert status == 400, reply
    assert reply["error"]["code"] == "invalid_request"
    bid = add(api, cid)[1]["bookmark"]["id"]
    status, reply = api("PATCH", f"/bookmarks/{bid}", body={"link": link})
    assert status == 400, reply
    assert api("GET", f"/channels/{cid}/bookmarks")[1]["bookmarks"][0]["link"].startswith("https")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"title": ""}, 422),
        ({"title": "   "}, 400),
        ({"title": 7}, 422),
        ({"link": None}, 422),
        ({"emoji": "not an emoji"}, 400),
        ({"emoji": "thumbsup"}, 201),
        ({"link": "HTTPS://Example.com/Path?q=1#x"}, 201),
    ],
)
def test_bad_input_is_a_4xx(
    api: Api, workspace: dict[str, str], body: dict[str, Any], status: int
) -> None:
    got, reply = add(api, workspace["general"], **body)
    assert got == status, reply
    if status >= 400:
        assert reply["error"]["code"] == "invalid_request"


def test_a_private_channels_bookmarks_do_not_exist_for_others(
    api: Api, workspace: dict[str, str]
) -> None:
    cid = private_channel(api, workspace["wid"])
    bid = add(api, cid)[1]["bookmark"]["id"]
    for user in (BOB, CAROL):  # Bob is in the workspace but not the channel; Carol is not
        assert add(api, cid, user=user)[0] == 404
        assert api("GET", f"/channels/{cid}/bookmarks", user=user)[0] == 404
        assert api("PATCH", f"/bookmarks/{bid}", user=user, body={"title": "x"})[0] == 404
        assert api("DELETE", f"/bookmarks/{bid}", user=user)[0] == 404
    assert len(api("GET", f"/channels/{cid}/bookmarks")[1]["bookmarks"]) == 1


def test_a_public_channel_shows_its_bookmarks_to_the_workspace_but_only_members_change_them(
    api: Api, workspace: dict[str, str]
) -> None:
    _status, made = api("POST", f"/workspaces/{workspace['wid']}/channels", body={"name": "news"})
    cid = made["channel"]["id"]
    bid = add(api, cid)[1]["bookmark"]["id"]
    assert api("GET", f"/channels/{cid}/bookmarks", user=BOB)[0] == 200  # not a member
    assert add(api, cid, user=BOB)[0] == 403
    assert api("PATCH", f"/bookmarks/{bid}", user=BOB, body={"title": "x"})[0] == 403
    assert api("DELETE", f"/bookmarks/{bid}", user=BOB)[0] == 403
    assert api("GET", f"/channels/{cid}/bookmarks", user=CAROL)[0] == 404  # outsider


def test_a_channel_keeps_at_most_100_bookmarks(api: Api, workspace: dict[str, str]) -> None:
    cid = workspace["general"]
    for n in range(100):
        assert add(api, cid, title=f"b{n}")[0] == 201
    status, reply = add(api, cid, title="one too many")
    assert status == 400, reply
