"""Channels: creation rules, visibility, joining, leaving, members, and their events."""

from __future__ import annotations

from tests.functional.conftest import ALICE, BOB, CAROL, Api, RecordingPoster


def create(api: Api, wid: str, name: str, user: str = ALICE, **extra: object) -> dict:
    status, body = api(
        "POST", f"/workspaces/{wid}/channels", user=user, body={"name": name, **extra}
    )
    assert status == 201, body
    return body["channel"]  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def test_channel_names_follow_slacks_rules(api: Api, workspace: dict[str, str]) -> None:
    wid = workspace["wid"]
    for bad in ("", "Has-Caps", "with space", "#hash", "x" * 81, "ünï"):
        status, body = api("POST", f"/workspaces/{wid}/channels", body={"name": bad})
        assert status == 422, bad
        assert body["error"]["code"] == "invalid_request"
    channel = create(api, wid, "dev_ops-2", topic="deploys")
    assert channel["topic"] == "deploys"
    assert channel["createdBy"] == ALICE
    assert (channel["type"], channel["isMember"], channel["memberCount"]) == ("public", True, 1)


def test_a_duplicate_name_is_a_conflict_even_across_kinds(
    api: Api, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    create(api, wid, "random")
    for user, private in ((ALICE, False), (BOB, True)):
        status, body = api(
            "POST",
            f"/workspaces/{wid}/channels",
            user=user,
            body={"name": "random", "private": private},
        )
        assert status == 409
        assert body["error"]["code"] == "conflict"
    status, _ = api("POST", f"/workspaces/{wid}/channels", body={"name": "general"})
    assert status == 409


def test_private_channels_exist_only_for_their_members(api: Api, workspace: dict[str, str]) -> None:
    wid = workspace["wid"]
    secret = create(api, wid, "secret", private=True)
    assert secret["type"] == "private"
    _, mine = api("GET", f"/workspaces/{wid}/channels")
    _, bobs = api("GET", f"/workspaces/{wid}/channels", user=BOB)
    assert "secret" in [c["name"] for c in mine["channels"]]
    assert "secret" not in [c["name"] for c in bobs["channels"]]
    for user in (BOB, CAROL):
        for method, path in [
            ("GET", f"/channels/{secret['id']}"),
            ("POST", f"/channels/{secret['id']}/join"),
            ("GET", f"/channels/{secret['id']}/members"),
            ("GET", f"/channels/{secret['id']}/messages"),
            ("POST", f"/channels/{secret['id']}/leave"),
        ]:
            status, body = api(method, path, user=user)
            assert status == 404, (user, path)
            assert body["error"]["code"] == "not_found"


def test_an_outsider_sees_no_public_channel_either(api: Api, workspace: dict[str, str]) -> None:
    status, _ = api("GET", f"/channels/{workspace['general']}", user=CAROL)
    assert status == 404
    status, _ = api("POST", f"/channels/{workspace['general']}/join", user=CAROL)
    assert status == 404


def test_joining_and_leaving_a_public_channel(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid = workspace["wid"]
    random = create(api, wid, "random")
    connect("conn-alice", ALICE, wid)
    connect("conn-bob", BOB, wid)
    status, body = api("POST", f"/channels/{random['id']}/join", user=BOB)
    assert status == 200
    assert (body["channel"]["isMember"], body["channel"]["memberCount"]) == (True, 2)
    status, body = api("POST", f"/channels/{random['id']}/join", user=BOB)
    assert (status, body["channel"]["memberCount"]) == (200, 2)
    joined = {"type": "member_joined_channel", "channelId": random["id"], "userId": BOB}
    assert poster.events("conn-alice").count(joined) == 1
    assert poster.events("conn-bob").count(joined) == 1

    status, body = api("POST", f"/channels/{random['id']}/leave", user=BOB)
    assert (status, body) == (204, None)
    left = {"type": "member_left_channel", "channelId": random["id"], "userId": BOB}
    assert left in poster.events("conn-alice")
    assert left in poster.events("conn-bob")
    _, channel = api("GET", f"/channels/{random['id']}", user=BOB)
    assert (channel["channel"]["isMember"], channel["channel"]["memberCount"]) == (False, 1)
    status, _ = api("POST", f"/channels/{random['id']}/leave", user=BOB)
    assert status == 204


def test_members_can_add_workspace_members_only(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid = workspace["wid"]
    secret = create(api, wid, "secret", private=True)
    connect("conn-bob", BOB, wid)
    status, body = api("POST", f"/channels/{secret['id']}/members", body={"userIds": [BOB]})
    assert status == 200
    assert [u["id"] for u in body["members"]] == [BOB]
    assert {"type": "member_joined_channel", "channelId": secret["id"], "userId": BOB} in (
        poster.events("conn-bob")
    )
    _, members = api("GET", f"/channels/{secret['id']}/members", user=BOB)
    assert {u["id"] for u in members["members"]} == {ALICE, BOB}
    status, body = api("POST", f"/channels/{secret['id']}/members", body={"userIds": [CAROL]})
    assert status == 404
    status, body = api("POST", f"/channels/{secret['id']}/members", body={"userIds": []})
    assert status == 422


def test_someone_outside_a_public_channel_cannot_add_to_it(
    api: Api, workspace: dict[str, str]
) -> None:
    random = create(api, workspace["wid"], "random")
    status, body = api(
        "POST", f"/channels/{random['id']}/members", user=BOB, body={"userIds": [BOB]}
    )
    assert status == 403
    assert body["error"]["code"] == "forbidden"


def test_channel_created_reaches_the_workspace_for_public_ones_only(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid = workspace["wid"]
    connect("conn-alice", ALICE, wid)
    connect("conn-bob", BOB, wid)
    public = create(api, wid, "announcements", user=BOB)
    private = create(api, wid, "hidden", user=BOB, private=True)
    alice_seen = [e["channel"]["id"] for e in poster.events("conn-alice", "channel_created")]
    bob_seen = [e["channel"]["id"] for e in poster.events("conn-bob", "channel_created")]
    assert alice_seen == [public["id"]]
    assert bob_seen == [public["id"], private["id"]]


def test_adding_several_members_looks_the_audience_up_once(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    from tests.functional.test_fanout_cost import counted_requests

    wid = workspace["wid"]
    _, invite = api("POST", f"/workspaces/{wid}/invites")
    newcomers = [f"user-{n}" for n in range(4)]
    for user in newcomers:
        api("POST", f"/invites/{invite['invite']['code']}/accept", user=user)
    connect("conn-alice", ALICE, wid)
    costs = {}
    for added in ([BOB], newcomers):
        channel = create(api, wid, f"room-{len(added)}")
        with counted_requests() as counts:
            status, _ = api("POST", f"/channels/{channel['id']}/members", body={"userIds": added})
        assert status == 200
        joined = poster.events("conn-alice", "member_joined_channel")
        assert {e["userId"] for e in joined if e["channelId"] == channel["id"]} == set(added)
        costs[len(added)] = (counts["Query"], counts["BatchGetItem"])
    assert costs[1] == costs[len(newcomers)]
