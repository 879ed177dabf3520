"""Slack's usergroups methods over Parley's user groups: a bot with `usergroups:write`
manages them as Slack lets one, with `usergroups:read` lists them; Parley's routes see the
same groups. A disabled group keeps its handle and users, is listed only when asked for, and
mentions nobody until it is enabled again."""

from __future__ import annotations

from collections.abc import Callable

from tests.functional.conftest import ALICE, BOB, CAROL, Api, RecordingPoster, SlackApi
from tests.functional.test_notifications import deliver, listed, post, record
from tests.functional.test_reads import channel_counts
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


def _group(slack: SlackApi, token: str, handle: str = "oncall") -> str:
    created = ok(slack("usergroups.create", token, form={"name": "On Call", "handle": handle}))
    gid: str = created["usergroup"]["id"]
    ok(slack("usergroups.users.update", token, form={"usergroup": gid, "users": f"{ALICE},{BOB}"}))
    return gid


def test_a_bot_disables_and_enables_a_group(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    bot = install(api, wid, ["usergroups:read", "usergroups:write"])
    token = bot["token"]
    gid = _group(slack, token)
    enabled = ok(slack("usergroups.list", token))["usergroups"][0]
    assert (enabled["date_delete"], enabled["deleted_by"]) == (0, None)

    disabled = ok(slack("usergroups.disable", token, form={"usergroup": gid}))["usergroup"]
    assert (disabled["id"], disabled["handle"], disabled["user_count"]) == (gid, "oncall", 2)
    assert disabled["date_delete"] > 0
    assert disabled["deleted_by"] == bot["user"]
    assert ok(slack("usergroups.list", token))["usergroups"] == []
    listed_all = ok(slack("usergroups.list", token, form={"include_disabled": "true"}))
    assert [(g["id"], g["date_delete"]) for g in listed_all["usergroups"]] == [
        (gid, disabled["date_delete"])
    ]
    # Its users are kept, and listed only with include_disabled.
    users = {"usergroup": gid}
    assert refused(slack("usergroups.users.list", token, form=users)) == "no_such_subteam"
    kept = ok(slack("usergroups.users.list", token, form={**users, "include_disabled": "1"}))
    assert kept["users"] == [ALICE, BOB]
    # Disabling it again is ok and changes nothing.
    again = ok(slack("usergroups.disable", token, form={"usergroup": gid}))["usergroup"]
    assert again == disabled
    # It can still be changed, and stays disabled; its handle is still taken.
    renamed = ok(slack("usergroups.update", token, form={"usergroup": gid, "name": "Pager"}))
    assert (renamed["usergroup"]["name"], renamed["usergroup"]["date_delete"]) == (
        "Pager",
        disabled["date_delete"],
    )
    filled = {"usergroup": gid, "users": BOB}
    changed = ok(slack("usergroups.users.update", token, form=filled))["usergroup"]
    assert (changed["users"], changed["date_delete"]) == ([BOB], disabled["date_delete"])
    taken = {"name": "Other", "handle": "oncall"}
    assert refused(slack("usergroups.create", token, form=taken)) == "name_already_exists"
    # Parley's route leaves it out unless asked, and marks it.
    assert api("GET", f"/workspaces/{wid}/usergroups")[1]["usergroups"] == []
    status, found = api("GET", f"/workspaces/{wid}/usergroups", query={"includeDisabled": "true"})
    assert status == 200, found
    [mine] = found["usergroups"]
    assert (mine["id"], mine["disabledBy"]) == (gid, bot["user"])
    assert mine["disabledAt"].endswith("Z")

    back = ok(slack("usergroups.enable", token, form={"usergroup": gid}))["usergroup"]
    assert (back["date_delete"], back["deleted_by"], back["name"]) == (0, None, "Pager")
    assert ok(slack("usergroups.enable", token, form={"usergroup": gid}))["usergroup"] == back
    assert [g["id"] for g in ok(slack("usergroups.list", token))["usergroups"]] == [gid]
    assert ok(slack("usergroups.users.list", token, form=users))["users"] == [BOB]
    _, found = api("GET", f"/workspaces/{wid}/usergroups")
    assert set(found["usergroups"][0]) == {"id", "handle", "name", "userIds"}


def test_disabling_and_enabling_needs_the_write_scope_and_a_group_of_the_team(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    writer = install(api, wid, ["usergroups:read", "usergroups:write"])["token"]
    reader = install(api, wid, ["usergroups:read"])["token"]
    gid = _group(slack, writer)
    status, other = api("POST", "/workspaces", user=CAROL, body={"name": "Other"})
    assert status == 201, other
    foreign = install_elsewhere(api, other["workspace"]["id"])
    for name in ("usergroups.disable", "usergroups.enable"):
        assert refused(slack(name, reader, form={"usergroup": gid})) == "missing_scope"
        assert refused(slack(name, writer, form={"usergroup": "S0NOSUCH00"})) == "no_such_subteam"
        assert refused(slack(name, writer, form={})) == "no_such_subteam"
        assert refused(slack(name, foreign, form={"usergroup": gid})) == "no_such_subteam"
    assert ok(slack("usergroups.list", writer))["usergroups"][0]["date_delete"] == 0


def install_elsewhere(api: Api, wid: str) -> str:
    """A bot with every usergroups scope in Carol's workspace."""
    status, created = api(
        "POST",
        f"/workspaces/{wid}/apps",
        user=CAROL,
        body={"name": "Elsewhere", "scopes": ["usergroups:read", "usergroups:write"]},
    )
    assert status == 201, created
    return str(created["botToken"])


def test_a_disabled_group_mentions_nobody_until_it_is_enabled_again(
    api: Api,
    slack: SlackApi,
    workspace: dict[str, str],
    connect: Callable[..., None],
    poster: RecordingPoster,
) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    token = install(api, wid, ["usergroups:read", "usergroups:write"])["token"]
    gid = _group(slack, token)
    connect("bob-1", BOB, wid)
    ok(slack("usergroups.disable", token, form={"usergroup": gid}))
    quiet = post(api, cid, f"<!subteam^{gid}|@oncall> the build is red")
    assert deliver(record(cid, quiet)) == []
    assert channel_counts(api, wid, cid, BOB) == (1, 0)
    assert poster.events("bob-1", "notification") == []
    assert listed(api, BOB)["notifications"] == []

    ok(slack("usergroups.enable", token, form={"usergroup": gid}))
    loud = post(api, cid, f"<!subteam^{gid}|@oncall> still red")
    assert deliver(record(cid, loud)) == []
    assert channel_counts(api, wid, cid, BOB) == (2, 1)
    [frame] = poster.events("bob-1", "notification")
    assert (frame["notification"]["type"], frame["notification"]["ts"]) == ("mention", loud)
    assert [n["ts"] for n in listed(api, BOB)["notifications"]] == [loud]
