"""Slack's usergroups methods over Parley's user groups: a bot with `usergroups:write`
manages them as Slack lets one, with `usergroups:read` lists them; Parley's routes see the
same groups."""

from __future__ import annotations

from tests.functional.conftest import ALICE, BOB, Api, SlackApi
from tests.functional.test_slack_web_api import install, ok, refused


def test_a_bot_creates_fills_renames_and_lists_a_group(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    token = install(api, wid, ["usergroups:read", "usergroups:write"])["token"]
    created = ok(slack("usergroups.create", token, form={"name": "On Call", "handle": "oncall"}))
    group = created["usergroup"]
    assert (group["name"], group["handle"], group["team_id"]) == ("On Call", "oncall", wid)
    assert group["is_usergroup"] is True
    gid = group["id"]
    users = ok(
        slack("usergroups.users.update", token, form={"usergroup": gid, "users": f"{ALICE},{BOB}"})
    )
    assert users["usergroup"]["users"] == [ALICE, BOB]
    assert ok(slack("usergroups.users.list", token, form={"usergroup": gid}))["users"] == [
        ALICE,
        BOB,
    ]
    renamed = ok(
        slack("usergroups.update", token, form={"usergroup": gid, "handle": "firefighters"})
    )
    assert renamed["usergroup"]["handle"] == "firefighters"
    listed = ok(slack("usergroups.list", token, form={"include_users": "true"}))
    assert [(g["id"], g["users"]) for g in listed["usergroups"]] == [(gid, [ALICE, BOB])]
    assert "users" not in ok(slack("usergroups.list", token))["usergroups"][0]
    _, mine = api("GET", f"/workspaces/{wid}/usergroups")
    assert [(g["id"], g["handle"], g["userIds"]) for g in mine["usergroups"]] == [
        (gid, "firefighters", [ALICE, BOB])
    ]


def test_a_handle_is_made_from_the_name_when_none_is_given(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    token = install(api, workspace["wid"], ["usergroups:write"])["token"]
    created = ok(slack("usergroups.create", token, form={"name": "Design Reviews!"}))
    assert created["usergroup"]["handle"] == "design-reviews"


def test_slacks_errors(api: Api, slack: SlackApi, workspace: dict[str, str]) -> None:
    wid = workspace["wid"]
    reader = install(api, wid, ["usergroups:read"])["token"]
    writer = install(api, wid, ["usergroups:read", "usergroups:write"])["token"]
    assert refused(slack("usergroups.create", reader, form={"name": "x"})) == "missing_scope"
    assert refused(slack("usergroups.create", writer, form={})) == "invalid_arguments"
    assert (
        refused(slack("usergroups.create", writer, form={"name": "a", "handle": "A B"}))
        == "invalid_handle"
    )
    ok(slack("usergroups.create", writer, form={"name": "One", "handle": "same"}))
    assert (
        refused(slack("usergroups.create", writer, form={"name": "Two", "handle": "same"}))
        == "name_already_exists"
    )
    assert (
        refused(slack("usergroups.users.list", writer, form={"usergroup": "S0NOSUCH00"}))
        == "no_such_subteam"
    )
    assert refused(slack("usergroups.users.list", writer, form={})) == "no_such_subteam"
    gid = ok(slack("usergroups.list", writer))["usergroups"][0]["id"]
    bad = {"usergroup": gid, "users": "not an id"}
    assert refused(slack("usergroups.users.update", writer, form=bad)) == "invalid_users"
    assert (
        refused(slack("usergroups.users.update", writer, form={"usergroup": gid}))
        == "invalid_users"
    )
