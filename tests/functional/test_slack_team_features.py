"""Slack's bookmarks.* and conversations.archive/unarchive over Parley's bookmarks and
archiving: Slack's parameters, shapes and errors; Parley's routes see the same state."""

from __future__ import annotations

from tests.functional.conftest import BOB, Api, SlackApi, post
from tests.functional.test_slack_web_api import add_to, install, ok, refused

LINK = {"title": "Runbook", "type": "link", "link": "https://wiki.example.com/runbook"}


def channel(api: Api, wid: str, name: str = "launch", private: bool = False) -> str:
    body = {"name": name, "private": private}
    status, made = api("POST", f"/workspaces/{wid}/channels", body=body)
    assert status == 201, made
    return made["channel"]["id"]  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def test_a_bot_adds_edits_lists_and_removes_bookmarks(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    cid = workspace["general"]
    bot = install(api, workspace["wid"], ["bookmarks:read", "bookmarks:write"])
    add_to(api, cid, bot)
    added = ok(
        slack("bookmarks.add", bot["token"], form={"channel_id": cid, **LINK, "emoji": ":book:"})
    )
    mark = added["bookmark"]
    assert (mark["channel_id"], mark["title"], mark["link"], mark["emoji"], mark["type"]) == (
        cid,
        "Runbook",
        "https://wiki.example.com/runbook",
        ":book:",
        "link",
    )
    assert mark["last_updated_by_user_id"] == bot["user"]
    assert mark["date_created"] > 0
    edited = ok(
        slack(
            "bookmarks.edit",
            bot["token"],
            form={"channel_id": cid, "bookmark_id": mark["id"], "title": "Runbook v2"},
        )
    )
    assert (edited["bookmark"]["title"], edited["bookmark"]["emoji"]) == ("Runbook v2", ":book:")
    listed = ok(slack("bookmarks.list", bot["token"], form={"channel_id": cid}))
    assert [b["id"] for b in listed["bookmarks"]] == [mark["id"]]
    _, mine = api("GET", f"/channels/{cid}/bookmarks", user=BOB)
    assert [(b["id"], b["title"], b["createdBy"]) for b in mine["bookmarks"]] == [
        (mark["id"], "Runbook v2", bot["user"])
    ]
    ok(slack("bookmarks.remove", bot["token"], form={"channel_id": cid, "bookmark_id": mark["id"]}))
    assert ok(slack("bookmarks.list", bot["token"], form={"channel_id": cid}))["bookmarks"] == []


def test_slacks_bookmark_errors(api: Api, slack: SlackApi, workspace: dict[str, str]) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    bot = install(api, wid, ["bookmarks:read", "bookmarks:write"])
    token = bot["token"]
    assert (
        refused(slack("bookmarks.add", token, form={"channel_id": cid, **LINK})) == "not_in_channel"
    )
    add_to(api, cid, bot)
    bad_link = {"channel_id": cid, **LINK, "link": "javascript:alert(1)"}
    assert refused(slack("bookmarks.add", token, form=bad_link)) == "invalid_link"
    no_link = {"channel_id": cid, "title": "x", "type": "link"}
    assert refused(slack("bookmarks.add", token, form=no_link)) == "invalid_link"
    message_type = {"channel_id": cid, **LINK, "type": "message"}
    assert refused(slack("bookmarks.add", token, form=message_type)) == "invalid_bookmark_type"
    bad_emoji = {"channel_id": cid, **LINK, "emoji": "not an emoji"}
    assert refused(slack("bookmarks.add", token, form=bad_emoji)) == "invalid_emoji"
    missing = {"channel_id": cid, "type": "link", "link": LINK["link"]}
    assert refused(slack("bookmarks.add", token, form=missing)) == "invalid_arguments"
    unknown = {"channel_id": "C0NOSUCH00", **LINK}
    assert refused(slack("bookmarks.add", token, form=unknown)) == "channel_not_found"
    private = channel(api, wid, "ops", private=True)  # the bot is not in it: it does not exist
    assert refused(slack("bookmarks.list", token, form={"channel_id": private})) == (
        "channel_not_found"
    )
    gone = {"channel_id": cid, "bookmark_id": "Bk0NOSUCH000"}
    assert refused(slack("bookmarks.remove", token, form=gone)) == "not_found"
    # A bookmark named with another channel than its own is not found there.
    api("POST", f"/channels/{private}/members", body={"userIds": [bot["user"]]})
    mark = ok(slack("bookmarks.add", token, form={"channel_id": private, **LINK}))["bookmark"]
    elsewhere = {"channel_id": cid, "bookmark_id": mark["id"], "title": "moved"}
    assert refused(slack("bookmarks.edit", token, form=elsewhere)) == "not_found"


def test_a_bot_archives_and_unarchives_a_channel_it_is_in(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    cid = channel(api, wid)
    bot = install(api, wid, ["channels:manage", "channels:read", "chat:write"])
    token = bot["token"]
    assert refused(slack("conversations.archive", token, form={"channel": cid})) == "not_in_channel"
    add_to(api, cid, bot)
    assert ok(slack("conversations.archive", token, form={"channel": cid})) == {"ok": True}
    info = ok(slack("conversations.info", token, form={"channel": cid}))
    assert info["channel"]["is_archived"] is True
    assert api("GET", f"/channels/{cid}")[1]["channel"]["isArchived"] is True
    assert refused(slack("conversations.archive", token, form={"channel": cid})) == (
        "already_archived"
    )
    posted = slack("chat.postMessage", token, form={"channel": cid, "text": "hi"})
    assert refused(posted) == "is_archived"
    listed = ok(slack("conversations.list", token, form={"exclude_archived": "true"}))
    assert cid not in {c["id"] for c in listed["channels"]}
    ok(slack("conversations.unarchive", token, form={"channel": cid}))
    assert refused(slack("conversations.unarchive", token, form={"channel": cid})) == (
        "not_archived"
    )
    ok(slack("chat.postMessage", token, form={"channel": cid, "text": "back"}))


def test_slacks_archive_errors(api: Api, slack: SlackApi, workspace: dict[str, str]) -> None:
    wid, general = workspace["wid"], workspace["general"]
    bot = install(api, wid, ["channels:manage", "groups:write", "chat:write"])
    token = bot["token"]
    add_to(api, general, bot)
    assert refused(slack("conversations.archive", token, form={"channel": general})) == (
        "cant_archive_general"
    )
    unknown = {"channel": "C0NOSUCH00"}
    assert refused(slack("conversations.archive", token, form=unknown)) == "channel_not_found"
    hidden = channel(api, wid, "hidden", private=True)
    assert refused(slack("conversations.archive", token, form={"channel": hidden})) == (
        "channel_not_found"
    )
    only_public = install(api, wid, ["channels:manage"])
    private = channel(api, wid, "ops", private=True)
    add_to(api, private, only_public)
    _, body, _ = slack("conversations.archive", only_public["token"], form={"channel": private})
    assert (body["error"], body["needed"]) == ("missing_scope", "groups:write")
    _, dm = api("POST", f"/workspaces/{wid}/dms", body={"userIds": [bot["user"]]})
    assert refused(
        slack("conversations.archive", token, form={"channel": dm["channel"]["id"]})
    ) == ("method_not_supported_for_channel_type")
    # A message a bot can no longer react to while its channel is archived.
    cid = channel(api, wid, "react")
    reactor = install(api, wid, ["reactions:write"])
    add_to(api, cid, reactor)
    ts = post(api, cid, "target")["ts"]
    assert api("POST", f"/channels/{cid}/archive")[0] == 200
    react = {"channel": cid, "name": "eyes", "timestamp": ts}
    assert refused(slack("reactions.add", reactor["token"], form=react)) == "is_archived"
