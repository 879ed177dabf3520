"""Apps: admins create them (token and signing secret shown once), rotate, revoke, delete."""

from __future__ import annotations

import hashlib
from typing import Any

import boto3
import pytest

from tests.unit.conftest import BOB, CAROL, TABLE, Api

SCOPES = ["chat:write", "channels:read", "channels:history", "reactions:write"]


def create_app(api: Api, wid: str, **body: Any) -> dict[str, Any]:
    status, created = api("POST", f"/workspaces/{wid}/apps", body={"name": "Echo", **body})
    assert status == 201, created
    return created  # type: ignore[no-any-return]


def authenticate(token: str) -> Any:
    from parley.domain import apps

    return apps.authenticate(token)


def table_items() -> list[dict[str, Any]]:
    return boto3.resource("dynamodb").Table(TABLE).scan()["Items"]  # type: ignore[no-any-return]


def test_creating_an_app_shows_token_and_secret_once_and_stores_only_the_hash(
    api: Api, workspace: dict[str, str]
) -> None:
    created = create_app(api, workspace["wid"], scopes=SCOPES, commands=["/echo"])
    token, secret, app = created["botToken"], created["signingSecret"], created["app"]
    assert token.startswith("pxb-")
    assert len(token) >= 4 + 43
    assert len(bytes.fromhex(secret)) == 32
    assert app["scopes"] == sorted(SCOPES)
    assert app["commands"] == ["/echo"]
    assert app["hasToken"] is True
    assert app["workspaceId"] == workspace["wid"]
    stored = repr(table_items())
    assert token not in stored
    assert f"BOTTOKEN#{hashlib.sha256(token.encode()).hexdigest()}" in stored
    _, listed = api("GET", f"/workspaces/{workspace['wid']}/apps")
    assert listed == {"apps": [app]}  # no token, no secret


def test_the_app_has_a_bot_user_that_is_a_workspace_member(
    api: Api, workspace: dict[str, str]
) -> None:
    app = create_app(api, workspace["wid"], scopes=["chat:write"])["app"]
    _, members = api("GET", f"/workspaces/{workspace['wid']}/members")
    bots = [m for m in members["members"] if m["isBot"]]
    assert [(m["user"]["id"], m["user"]["name"], m["role"]) for m in bots] == [
        (app["botUserId"], "Echo", "member")
    ]
    caller = authenticate(create_app(api, workspace["wid"], scopes=["chat:write"])["botToken"])
    assert caller.is_bot
    assert caller.workspace_id == workspace["wid"]
    assert caller.scopes == {"chat:write"}


def test_only_admins_manage_apps_and_outsiders_learn_nothing(
    api: Api, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    app = create_app(api, wid, scopes=["chat:write"])["app"]
    body = {"name": "Echo", "scopes": ["chat:write"]}
    assert api("POST", f"/workspaces/{wid}/apps", user=BOB, body=body)[0] == 403
    assert api("GET", f"/workspaces/{wid}/apps", user=BOB)[0] == 403
    assert api("POST", f"/apps/{app['id']}/token/rotate", user=BOB)[0] == 403
    assert api("POST", f"/workspaces/{wid}/apps", user=CAROL, body=body)[0] == 404
    assert api("DELETE", f"/apps/{app['id']}", user=CAROL)[0] == 404
    assert api("DELETE", "/apps/A0NOSUCHAPP")[0] == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Echo", "scopes": ["admin"]},
        {"name": "Echo", "scopes": []},
        {"name": "", "scopes": ["chat:write"]},
        {"name": "Echo", "scopes": ["chat:write"], "eventsUrl": "ftp://x"},
        {"name": "Echo", "scopes": ["chat:write"], "commands": ["echo"]},
    ],
    ids=["unknown scope", "no scope", "no name", "not http", "command without slash"],
)
def test_bad_app_definitions_get_a_422(
    api: Api, workspace: dict[str, str], body: dict[str, Any]
) -> None:
    status, reply = api("POST", f"/workspaces/{workspace['wid']}/apps", body=body)
    assert status == 422, reply
    assert reply["error"]["code"] == "invalid_request"


def test_rotating_the_token_ends_the_old_one_at_once(api: Api, workspace: dict[str, str]) -> None:
    from parley.errors import Unauthorized

    created = create_app(api, workspace["wid"], scopes=["chat:write"])
    status, rotated = api("POST", f"/apps/{created['app']['id']}/token/rotate")
    assert status == 200
    assert rotated["botToken"] != created["botToken"]
    assert authenticate(rotated["botToken"]).app_id == created["app"]["id"]
    with pytest.raises(Unauthorized):
        authenticate(created["botToken"])


def test_a_revoked_token_is_refused_until_the_admin_rotates(
    api: Api, workspace: dict[str, str]
) -> None:
    from parley.errors import Unauthorized

    created = create_app(api, workspace["wid"], scopes=["chat:write"])
    app_id = created["app"]["id"]
    assert api("DELETE", f"/apps/{app_id}/token")[0] == 204
    assert api("DELETE", f"/apps/{app_id}/token")[0] == 204  # idempotent
    with pytest.raises(Unauthorized):
        authenticate(created["botToken"])
    _, listed = api("GET", f"/workspaces/{workspace['wid']}/apps")
    assert listed["apps"][0]["hasToken"] is False
    _, rotated = api("POST", f"/apps/{app_id}/token/rotate")
    assert authenticate(rotated["botToken"]).app_id == app_id


def test_a_stale_rotation_loses_to_the_one_that_committed_first(
    api: Api, workspace: dict[str, str]
) -> None:
    """Two admins rotate at once: the second, holding the app as it was, gets a 409."""
    from parley.errors import Conflict
    from parley.store import apps as app_store

    created = create_app(api, workspace["wid"], scopes=["chat:write"])
    stale = app_store.get_app(created["app"]["id"])
    assert stale is not None
    api("POST", f"/apps/{created['app']['id']}/token/rotate")
    from parley.domain import apps

    with pytest.raises(Conflict):
        apps._replace_token(stale, "0" * 64)


def test_deleting_an_app_ends_its_token_and_its_bots_membership(
    api: Api, workspace: dict[str, str]
) -> None:
    from parley.errors import Unauthorized

    created = create_app(api, workspace["wid"], scopes=["chat:write"])
    assert api("DELETE", f"/apps/{created['app']['id']}")[0] == 204
    assert api("GET", f"/workspaces/{workspace['wid']}/apps")[1] == {"apps": []}
    with pytest.raises(Unauthorized):
        authenticate(created["botToken"])
    _, members = api("GET", f"/workspaces/{workspace['wid']}/members")
    assert not any(m["isBot"] for m in members["members"])
    assert api("DELETE", f"/apps/{created['app']['id']}")[0] == 404


def test_an_empty_or_unknown_token_is_unauthorized(api: Api) -> None:
    from parley.errors import Unauthorized

    for token in ("", "pxb-nope", "Bearer"):
        with pytest.raises(Unauthorized):
            authenticate(token)
