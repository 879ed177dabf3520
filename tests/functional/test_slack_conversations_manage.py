"""Slack's methods for managing conversations, as bots call them: conversations.open (DMs
with a user or a few), .create, .invite, .setTopic, .rename, .leave, users.conversations
and team.info, with Slack's parameters, shapes, error codes and scopes."""

from __future__ import annotations

from tests.functional.conftest import ALICE, BOB, CAROL, Api, SlackApi
from tests.functional.test_slack_web_api import add_to, install, items, ok, refused


def test_conversations_open_makes_a_dm_once_and_the_bot_can_post_there(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    bot = install(api, workspace["wid"], ["im:write", "mpim:write", "chat:write", "im:read"])
    opened = ok(slack("conversations.open", bot["token"], form={"users": ALICE}))
    dm = opened["channel"]["id"]
    assert set(opened["channel"]) == {"id"}
    again = ok(
        slack("conversations.open", bot["token"], form={"users": ALICE, "return_im": "true"})
    )
    assert (again["channel"]["id"], again["channel"]["is_im"]) == (dm, True)
    ok(slack("chat.postMessage", bot["token"], form={"channel": dm, "text": "hello from the bot"}))
    status, history = api("GET", f"/channels/{dm}/messages")
    assert status == 200, history
    assert [m["text"] for m in history["messages"]] == ["hello from the bot"]
    resumed = ok(slack("conversations.open", bot["token"], form={"channel": dm}))
    assert resumed["channel"]["id"] == dm
    group = ok(slack("conversations.open", bot["token"], form={"users": f"{ALICE},{BOB}"}))
    assert group["channel"]["id"] not in (dm, None)


def test_conversations_open_refuses_as_slack_does(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    bot = install(api, workspace["wid"], ["im:write"])
    before = items()
    assert refused(slack("conversations.open", bot["token"])) == "users_list_not_supplied"
    assert refused(slack("conversations.open", bot["token"], form={"users": CAROL})) == (
        "user_not_found"
    )  # not in this workspace
    assert refused(slack("conversations.open", bot["token"], form={"users": "not an id!"})) == (
        "user_not_found"
    )
    assert refused(slack("conversations.open", bot["token"], form={"users": bot["user"]})) == (
        "not_enough_users"
    )
    nine = ",".join(f"U{i:010d}" for i in range(9))
    assert refused(slack("conversations.open", bot["token"], form={"users": nine})) == (
        "too_many_users"
    )
    # A group DM needs mpim:write.
    group = {"users": f"{ALICE},{BOB}"}
    assert refused(slack("conversations.open", bot["token"], form=group)) == "missing_scope"
    general = {"channel": workspace["general"]}
    assert refused(slack("conversations.open", bot["token"], form=general)) == (
        "method_not_supported_for_channel_type"
    )
    assert items() == before


def test_a_bot_creates_invites_sets_the_topic_renames_and_leaves(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    scopes = ["channels:manage", "groups:write", "channels:read", "groups:read"]
    bot = install(api, workspace["wid"], scopes)
    created = ok(slack("conversations.create", bot["token"], form={"name": "deploys"}))["channel"]
    cid = created["id"]
    assert (created["name"], created["is_channel"], created["is_private"]) == (
        "deploys",
        True,
        False,
    )
    assert refused(slack("conversations.create", bot["token"], form={"name": "deploys"})) == (
        "name_taken"
    )
    for bad, code in (
        ("Has Spaces", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
    ):
        assert refused(slack("conversations.create", bot["token"], form={"name": bad})) == code
    assert refused(slack("conversations.create", bot["token"])) == "invalid_name_required"

    invited = ok(
        slack(
            "conversations.invite", bot["token"], form={"channel": cid, "users": f"{ALICE},{BOB}"}
        )
    )
    assert invited["channel"]["id"] == cid
    status, members = api("GET", f"/channels/{cid}/members")
    assert status == 200, members
    assert {ALICE, BOB, bot["user"]} <= {m["id"] for m in members["members"]}
    assert (
        refused(
            slack("conversations.invite", bot["token"], form={"channel": cid, "users": bot["user"]})
        )
        == "cant_invite_self"
    )
    assert (
        refused(slack("conversations.invite", bot["token"], form={"channel": cid, "users": CAROL}))
        == "user_not_found"
    )

    topic = ok(
        slack("conversations.setTopic", bot["token"], form={"channel": cid, "topic": "ship it"})
    )
    assert topic["channel"]["topic"]["value"] == "ship it"
    too_long = {"channel": cid, "topic": "x" * 251}
    assert refused(slack("conversations.setTopic", bot["token"], form=too_long)) == "too_long"
    renamed = ok(
        slack("conversations.rename", bot["token"], form={"channel": cid, "name": "releases"})
    )
    assert renamed["channel"]["name"] == "releases"
    status, seen = api("GET", f"/channels/{cid}")
    assert (status, seen["channel"]["name"], seen["channel"]["topic"]) == (
        200,
        "releases",
        "ship it",
    )

    private = ok(
        slack("conversations.create", bot["token"], form={"name": "secret", "is_private": "true"})
    )["channel"]
    assert private["is_private"] is True
    listed = ok(
        slack("users.conversations", bot["token"], form={"types": "public_channel,private_channel"})
    )
    assert {c["id"] for c in listed["channels"]} == {cid, private["id"]}

    assert ok(slack("conversations.leave", bot["token"], form={"channel": cid})) == {"ok": True}
    assert (
        ok(slack("conversations.leave", bot["token"], form={"channel": cid}))["not_in_channel"]
        is True
    )
    assert (
        refused(slack("conversations.invite", bot["token"], form={"channel": cid, "users": ALICE}))
        == "not_in_channel"
    )
    listed = ok(slack("users.conversations", bot["token"]))
    assert [c["id"] for c in listed["channels"]] == []


def test_managing_needs_the_scope_for_the_kind_of_channel(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    bot = install(api, workspace["wid"], ["channels:manage", "channels:read"])
    private = {"name": "hidden", "is_private": "true"}
    assert refused(slack("conversations.create", bot["token"], form=private)) == "missing_scope"
    status, made = api(
        "POST", f"/workspaces/{workspace['wid']}/channels", body={"name": "locked", "private": True}
    )
    assert status == 201, made
    add_to(api, made["channel"]["id"], bot)
    topic = {"channel": made["channel"]["id"], "topic": "x"}
    assert refused(slack("conversations.setTopic", bot["token"], form=topic)) == "missing_scope"
    reader = install(api, workspace["wid"], ["channels:read"])
    assert refused(slack("conversations.create", reader["token"], form={"name": "nope"})) == (
        "missing_scope"
    )
    assert refused(slack("team.info", reader["token"])) == "missing_scope"


def test_team_info(api: Api, slack: SlackApi, workspace: dict[str, str]) -> None:
    bot = install(api, workspace["wid"], ["team:read"])
    team = ok(slack("team.info", bot["token"]))["team"]
    assert (team["id"], team["name"], team["domain"]) == (workspace["wid"], "Acme", "acme")
