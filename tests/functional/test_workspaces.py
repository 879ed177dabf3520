"""Workspaces, invites and workspace members through the HTTP API function."""

from __future__ import annotations

from tests.functional.conftest import ALICE, BOB, CAROL, Api, RecordingPoster


def test_creating_a_workspace_makes_the_caller_admin_and_joins_general(api: Api) -> None:
    status, body = api("POST", "/workspaces", body={"name": "  Acme  "})
    assert status == 201
    workspace = body["workspace"]
    assert workspace["name"] == "Acme"
    assert workspace["role"] == "admin"
    assert set(workspace) == {"id", "name", "createdAt", "role"}
    _, listed = api("GET", f"/workspaces/{workspace['id']}/channels")
    (general,) = listed["channels"]
    assert general["name"] == "general"
    assert general["type"] == "public"
    assert general["isMember"] is True
    assert general["memberCount"] == 1


def test_workspace_name_is_required(api: Api) -> None:
    for body in ({}, {"name": ""}, {"name": "   "}, {"name": "x" * 81}):
        status, reply = api("POST", "/workspaces", body=body)
        assert status == 422, body
        assert reply["error"]["code"] == "invalid_request"


def test_malformed_json_body_is_a_client_error(api: Api) -> None:
    status, reply = api("POST", "/workspaces", raw_body="{not json")
    assert status in (400, 422)
    assert reply["error"]["code"] == "invalid_request"


def test_a_body_that_is_not_utf8_is_a_client_error(api: Api) -> None:
    status, reply = api("POST", "/workspaces", binary_body=b'{"name": "\xff\xfe"}')
    assert status == 400
    assert reply["error"]["code"] == "invalid_request"


def test_workspaces_lists_only_the_callers(api: Api, workspace: dict[str, str]) -> None:
    api("POST", "/workspaces", user=CAROL, body={"name": "Carol's"})
    _, alice = api("GET", "/workspaces")
    _, bob = api("GET", "/workspaces", user=BOB)
    _, carol = api("GET", "/workspaces", user=CAROL)
    assert [w["id"] for w in alice["workspaces"]] == [workspace["wid"]]
    assert [(w["id"], w["role"]) for w in bob["workspaces"]] == [(workspace["wid"], "member")]
    assert [w["name"] for w in carol["workspaces"]] == ["Carol's"]


def test_an_outsider_cannot_see_a_workspace(api: Api, workspace: dict[str, str]) -> None:
    wid = workspace["wid"]
    for method, path in [
        ("GET", f"/workspaces/{wid}"),
        ("GET", f"/workspaces/{wid}/members"),
        ("GET", f"/workspaces/{wid}/channels"),
        ("POST", f"/workspaces/{wid}/invites"),
    ]:
        status, reply = api(method, path, user=CAROL)
        assert status == 404, path
        assert reply["error"]["code"] == "not_found"
    status, _ = api("GET", "/workspaces/WNOSUCHTHING")
    assert status == 404


def test_accepting_an_invite_joins_the_workspace_and_general(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    connect("conn-alice", ALICE, wid)
    _, invite = api("POST", f"/workspaces/{wid}/invites", user=BOB)
    assert invite["invite"]["expiresAt"] > "2000"
    status, joined = api("POST", f"/invites/{invite['invite']['code']}/accept", user=CAROL)
    assert status == 200
    assert joined["workspace"] == {**joined["workspace"], "id": wid, "role": "member"}
    _, channel = api("GET", f"/channels/{general}", user=CAROL)
    assert channel["channel"]["isMember"] is True
    assert channel["channel"]["memberCount"] == 3
    assert {"type": "member_joined_channel", "channelId": general, "userId": CAROL} in (
        poster.events("conn-alice")
    )
    again, _ = api("POST", f"/invites/{invite['invite']['code']}/accept", user=CAROL)
    assert again == 200
    _, channel = api("GET", f"/channels/{general}", user=CAROL)
    assert channel["channel"]["memberCount"] == 3


def test_an_unknown_invite_is_not_found(api: Api) -> None:
    status, reply = api("POST", "/invites/not-a-code/accept", user=CAROL)
    assert status == 404
    assert reply["error"]["code"] == "not_found"


def test_members_are_listed_with_roles_and_paged(api: Api, workspace: dict[str, str]) -> None:
    wid = workspace["wid"]
    _, first = api("GET", f"/workspaces/{wid}/members", query={"limit": "1"})
    assert len(first["members"]) == 1
    assert first["nextCursor"]
    _, second = api(
        "GET", f"/workspaces/{wid}/members", query={"limit": "1", "cursor": first["nextCursor"]}
    )
    members = first["members"] + second["members"]
    assert {(m["user"]["id"], m["role"]) for m in members} == {(ALICE, "admin"), (BOB, "member")}
    alice = next(m["user"] for m in members if m["user"]["id"] == ALICE)
    assert alice == {"id": ALICE, "name": "Alice Example", "email": "alice@example.com"}
    _, rest = (
        api(
            "GET",
            f"/workspaces/{wid}/members",
            query={"limit": "1", "cursor": second["nextCursor"]},
        )
        if second["nextCursor"]
        else (200, {"members": [], "nextCursor": None})
    )
    assert rest["members"] == []
    assert rest["nextCursor"] is None


def test_bad_paging_parameters_are_client_errors(api: Api, workspace: dict[str, str]) -> None:
    wid = workspace["wid"]
    for query in ({"limit": "0"}, {"limit": "201"}, {"limit": "ten"}, {"cursor": "%%%"}):
        status, reply = api("GET", f"/workspaces/{wid}/members", query=query)
        assert status in (400, 422), query
        assert reply["error"]["code"] == "invalid_request"


def test_me_is_provisioned_from_the_token(api: Api) -> None:
    status, body = api("GET", "/me")
    assert status == 200
    assert body == {"user": {"id": ALICE, "name": "Alice Example", "email": "alice@example.com"}}


def test_an_unknown_route_answers_in_parleys_error_format(api: Api) -> None:
    status, body = api("GET", "/no/such/route")
    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_a_body_nested_past_the_parsers_stack_is_a_client_error(api: Api) -> None:
    status, reply = api("POST", "/workspaces", raw_body="[" * 5000)
    assert status == 400, reply
    assert reply["error"]["code"] == "invalid_request"
