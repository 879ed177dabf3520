"""User groups (API.md, "Team features"): admins manage them, members list them, and
`<!subteam^GID>` mentions each member of the group who can see the channel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.functional.conftest import ALICE, BOB, CAROL, DAVE, Api, RecordingPoster
from tests.functional.test_notifications import deliver, listed, post, record
from tests.functional.test_reads import channel_counts


def create(api: Api, wid: str, user: str = ALICE, **body: Any) -> tuple[int, Any]:
    body = {"handle": "oncall", "name": "On call", "userIds": [BOB, CAROL], **body}
    return api("POST", f"/workspaces/{wid}/usergroups", user=user, body=body)


def test_an_admin_creates_and_members_list_user_groups(api: Api, workspace: dict[str, str]) -> None:
    wid = workspace["wid"]
    status, created = create(api, wid, userIds=[BOB, CAROL, BOB])
    assert status == 201, created
    group = created["usergroup"]
    assert set(group) == {"id", "handle", "name", "userIds"}
    assert (group["handle"], group["name"], group["userIds"]) == ("oncall", "On call", [BOB, CAROL])
    assert create(api, wid, handle="backend", name="Backend", userIds=[])[0] == 201
    status, found = api("GET", f"/workspaces/{wid}/usergroups", user=BOB)
    assert status == 200, found
    assert [g["handle"] for g in found["usergroups"]] == ["backend", "oncall"]
    assert api("GET", f"/workspaces/{wid}/usergroups", user=CAROL)[0] == 404  # not a member


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"handle": "On Call"}, 422),
        ({"handle": ""}, 422),
        ({"handle": "x" * 81}, 422),
        ({"handle": "a.b_c-d"}, 201),
        ({"name": ""}, 422),
        ({"name": " "}, 400),
        ({"userIds": "bob"}, 422),
    ],
)
def test_bad_input_is_a_4xx(
    api: Api, workspace: dict[str, str], body: dict[str, Any], status: int
) -> None:
    got, reply = create(api, workspace["wid"], **body)
    assert got == status, reply
    if status >= 400:
        assert reply["error"]["code"] == "invalid_request"


def test_a_handle_is_unique_in_its_workspace_and_freed_by_a_rename(
    api: Api, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    gid = create(api, wid)[1]["usergroup"]["id"]
    status, taken = create(api, wid, name="Other")
    assert (status, taken["error"]["code"]) == (409, "conflict")
    status, renamed = api("PATCH", f"/usergroups/{gid}", body={"handle": "firefighters"})
    assert status == 200, renamed
    assert renamed["usergroup"]["handle"] == "firefighters"
    assert renamed["usergroup"]["userIds"] == [BOB, CAROL]  # unchanged
    assert create(api, wid)[0] == 201  # "oncall" is free again
    other = create(api, wid, handle="third")[1]["usergroup"]["id"]
    status, clash = api("PATCH", f"/usergroups/{other}", body={"handle": "firefighters"})
    assert (status, clash["error"]["code"]) == (409, "conflict")


def test_only_admins_change_or_delete_and_a_deleted_group_is_gone(
    api: Api, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    assert create(api, wid, user=BOB)[0] == 403
    gid = create(api, wid)[1]["usergroup"]["id"]
    assert api("PATCH", f"/usergroups/{gid}", user=BOB, body={"name": "x"})[0] == 403
    assert api("DELETE", f"/usergroups/{gid}", user=BOB)[0] == 403
    assert api("DELETE", f"/usergroups/{gid}", user=CAROL)[0] == 404  # not in the workspace
    status, changed = api("PATCH", f"/usergroups/{gid}", body={"userIds": [ALICE]})
    assert (status, changed["usergroup"]["userIds"]) == (200, [ALICE])
    assert api("DELETE", f"/usergroups/{gid}")[0] == 204
    assert api("DELETE", f"/usergroups/{gid}")[0] == 404
    assert api("PATCH", f"/usergroups/{gid}", body={"name": "x"})[0] == 404
    assert api("GET", f"/workspaces/{wid}/usergroups")[1]["usergroups"] == []
    assert create(api, wid)[0] == 201  # its handle is free


def test_a_group_mention_counts_and_notifies_its_members_in_the_channel_only(
    api: Api, workspace: dict[str, str], connect: Callable[..., None], poster: RecordingPoster
) -> None:
    """Bob is in the group and the channel; Carol is in the group but not the workspace;
    Dave is in neither; Alice, the author, is in the group too."""
    wid, cid = workspace["wid"], workspace["general"]
    gid = create(api, wid, userIds=[BOB, CAROL, ALICE])[1]["usergroup"]["id"]
    connect("bob-1", BOB, wid)
    ts = post(api, cid, f"<!subteam^{gid}|@oncall> the build is red")
    assert channel_counts(api, wid, cid, BOB) == (1, 1)
    assert channel_counts(api, wid, cid, ALICE) == (0, 0)
    assert deliver(record(cid, ts)) == []
    [frame] = poster.events("bob-1", "notification")
    assert (frame["notification"]["type"], frame["notification"]["ts"]) == ("mention", ts)
    assert listed(api, ALICE)["notifications"] == []
    assert listed(api, CAROL)["notifications"] == []
    assert listed(api, DAVE)["notifications"] == []


def test_a_group_of_another_workspace_or_none_mentions_nobody(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    status, other = api("POST", "/workspaces", user=CAROL, body={"name": "Other"})
    assert status == 201
    foreign = create(api, other["workspace"]["id"], user=CAROL, userIds=[BOB])[1]
    post(api, cid, f"<!subteam^{foreign['usergroup']['id']}> and <!subteam^S0NOSUCH00>")
    assert channel_counts(api, wid, cid, BOB) == (1, 0)


def test_an_edit_that_adds_a_group_mention_counts_it(api: Api, workspace: dict[str, str]) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    gid = create(api, wid)[1]["usergroup"]["id"]
    ts = post(api, cid, "the build is red")
    assert channel_counts(api, wid, cid, BOB) == (1, 0)
    body = {"text": f"<!subteam^{gid}> the build is red"}
    assert api("PATCH", f"/channels/{cid}/messages/{ts}", body=body)[0] == 200
    assert channel_counts(api, wid, cid, BOB) == (1, 1)


def test_an_admin_disables_and_enables_a_group_which_keeps_its_handle_and_users(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    gid = create(api, wid)[1]["usergroup"]["id"]
    assert api("PATCH", f"/usergroups/{gid}", user=BOB, body={"disabled": True})[0] == 403
    status, changed = api("PATCH", f"/usergroups/{gid}", body={"disabled": True})
    assert status == 200, changed
    group = changed["usergroup"]
    assert (group["userIds"], group["disabledBy"]) == ([BOB, CAROL], ALICE)
    assert api("GET", f"/workspaces/{wid}/usergroups", user=BOB)[1]["usergroups"] == []
    query = {"includeDisabled": "true"}
    status, found = api("GET", f"/workspaces/{wid}/usergroups", user=BOB, query=query)
    assert (status, found["usergroups"]) == (200, [group])
    assert api("GET", f"/workspaces/{wid}/usergroups", query={"includeDisabled": "x"})[0] == 422
    assert create(api, wid, name="Other")[0] == 409  # its handle is still taken
    post(api, cid, f"<!subteam^{gid}> anyone?")
    assert channel_counts(api, wid, cid, BOB) == (1, 0)
    status, back = api("PATCH", f"/usergroups/{gid}", body={"disabled": False})
    assert status == 200, back
    assert back["usergroup"] == {
        "id": gid,
        "handle": "oncall",
        "name": "On call",
        "userIds": [BOB, CAROL],
    }
    post(api, cid, f"<!subteam^{gid}> anyone?")
    assert channel_counts(api, wid, cid, BOB) == (2, 1)
