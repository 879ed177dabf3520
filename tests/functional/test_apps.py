"""Apps: admins create them (token and signing secret shown once), rotate, revoke, delete."""

from __future__ import annotations

import hashlib
from typing import Any

import boto3
import pytest

from tests.functional.conftest import BOB, CAROL, TABLE, Api

SCOPES = ["chat:write", "channels:read", "channels:history", "reactions:write"]


def create_app(api: Api, wid: str, **body: Any) -> dict[str, Any]:
    status, created = api("POST", f"/workspaces/{wid}/apps", body={"name": "Echo", **body})
    assert status == 201, created
    return created  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def authenticate(token: str) -> Any:
    from parley.domain import apps

    return apps.authenticate(token)


def table_items() -> list[dict[str, Any]]:
    return boto3.resource("dynamodb").Table(TABLE).scan()["Items"]  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def test_creating_an_app_shows_token_and_secret_once_and_stores_only_the_hash(
    api: Api, workspace: dict[str, str]
) -> None:
    created = create_app(api, workspace["wid"], scopes=SCOPES, commands=["/echo"])
    token, secret, app = created["botToken"], created["signingSecret"], created["app"]
    assert token.startswith("xoxb-")
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
    from parley.adapters.dynamodb import apps as app_store
    from parley.errors import Conflict

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


# ------------------------------------------------------------------ URLs and PATCH


class Challenged:
    """An app URL that answers the url_verification challenge (or refuses to)."""

    def __init__(self, answers: bool = True) -> None:
        self.answers = answers
        self.urls: list[str] = []

    def post(self, url: str, body: bytes, headers: Any, timeout: float) -> Any:
        import json

        from parley.apps.delivery import Reply

        self.urls.append(url)
        challenge = json.loads(body)["challenge"]
        return Reply(200, json.dumps({"challenge": challenge if self.answers else "no"}).encode())


@pytest.fixture
def challenged(monkeypatch: pytest.MonkeyPatch) -> Challenged:
    from parley import wiring

    fake = Challenged()
    monkeypatch.setattr(wiring, "http_poster", lambda config: fake)
    return fake


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://127.0.0.1:8080/events", "loopback"),
        ("https://internal.example.com/events", "private"),
        ("https://metadata.example.com/events", "link-local"),
        ("http://[::ffff:10.0.0.1]/events", "private"),
        ("http://224.0.0.1/events", "multicast"),
        ("https://user:pw@echo.example.com/events", "credentials"),
        ("https://nowhere.invalid/events", "does not resolve"),
    ],
)
def test_app_urls_that_reach_inside_are_refused_with_a_422(
    api: Api, workspace: dict[str, str], url: str, why: str
) -> None:
    for field in ("eventsUrl", "commandUrl"):
        body = {"name": "Probe", "scopes": ["chat:write"], field: url}
        status, reply = api("POST", f"/workspaces/{workspace['wid']}/apps", body=body)
        assert status == 422, reply
        assert reply["error"]["message"].startswith(f"{field}: ")
        assert why in reply["error"]["message"]


def test_private_app_urls_pass_where_the_setting_allows_them(
    api: Api, workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley import wiring
    from parley.config import settings

    monkeypatch.setenv("ALLOW_PRIVATE_APP_URLS", "true")
    settings.cache_clear()
    wiring.configured.cache_clear()
    body = {"name": "Local", "scopes": ["chat:write"], "eventsUrl": "http://127.0.0.1:9/e"}
    assert api("POST", f"/workspaces/{workspace['wid']}/apps", body=body)[0] == 201
    body["eventsUrl"] = "ftp://127.0.0.1/e"  # still http(s) only
    assert api("POST", f"/workspaces/{workspace['wid']}/apps", body=body)[0] == 422


def test_patch_changes_what_it_names_and_reverifies_a_new_events_url(
    api: Api, workspace: dict[str, str], challenged: Challenged
) -> None:
    from parley.adapters.dynamodb import apps as app_store

    app = create_app(api, workspace["wid"], scopes=["chat:write"], commands=["/old"])["app"]
    new_url = "https://new.example.com/events"
    body = {
        "eventsUrl": new_url,
        "events": ["message"],
        "commands": ["/deploy"],
        "commandUrl": "https://new.example.com/commands",
    }
    status, reply = api("PATCH", f"/apps/{app['id']}", body=body)
    assert status == 200, reply
    changed = reply["app"]
    assert (changed["eventsUrl"], changed["events"], changed["commands"]) == (
        new_url,
        ["message"],
        ["/deploy"],
    )
    assert changed["commandUrl"] == "https://new.example.com/commands"
    assert changed["name"] == "Echo"  # not named, not changed
    assert challenged.urls == [new_url]
    stored = app_store.get_app(app["id"])
    assert stored is not None
    assert stored.eventsVerifiedUrl == new_url  # delivery will not challenge it again
    status, reply = api("PATCH", f"/apps/{app['id']}", body={"commandUrl": None})
    assert (status, reply["app"]["commandUrl"]) == (200, None)
    assert challenged.urls == [new_url]  # no eventsUrl change, no challenge


def test_patch_refuses_an_events_url_that_fails_the_challenge_and_keeps_the_old_one(
    api: Api, workspace: dict[str, str], challenged: Challenged
) -> None:
    old = "https://old.example.com/events"
    app = create_app(api, workspace["wid"], scopes=["chat:write"], eventsUrl=old)["app"]
    challenged.answers = False
    status, reply = api(
        "PATCH", f"/apps/{app['id']}", body={"eventsUrl": "https://new.example.com/e"}
    )
    assert status == 422, reply
    assert "url_verification" in reply["error"]["message"]
    _, listed = api("GET", f"/workspaces/{workspace['wid']}/apps")
    assert listed["apps"][0]["eventsUrl"] == old
    status, reply = api(
        "PATCH", f"/apps/{app['id']}", body={"eventsUrl": "https://internal.example.com/e"}
    )
    assert status == 422
    assert "private" in reply["error"]["message"]


def test_patch_is_for_admins_and_command_names_stay_unique(
    api: Api, workspace: dict[str, str], challenged: Challenged
) -> None:
    first = create_app(api, workspace["wid"], scopes=["chat:write"], commands=["/a"])["app"]
    second = create_app(api, workspace["wid"], scopes=["chat:write"], commands=["/b"])["app"]
    assert api("PATCH", f"/apps/{first['id']}", user=BOB, body={"name": "x"})[0] == 403
    assert api("PATCH", f"/apps/{first['id']}", user=CAROL, body={"name": "x"})[0] == 404
    assert api("PATCH", f"/apps/{second['id']}", body={"commands": ["/a"]})[0] == 409
    assert api("PATCH", f"/apps/{first['id']}", body={"commands": ["/a", "/c"]})[0] == 200
    assert api("PATCH", f"/apps/{first['id']}", body={"scopes": ["nope"]})[0] == 200  # ignored
    assert api("PATCH", f"/apps/{first['id']}", body={"commands": ["bad"]})[0] == 422


def _claims() -> dict[str, str]:
    return {i["SK"]: i["appId"] for i in table_items() if i["SK"].startswith("CMD#")}


def test_command_claims_follow_the_app_through_patch_and_delete(
    api: Api, workspace: dict[str, str], challenged: Challenged
) -> None:
    wid = workspace["wid"]
    first = create_app(api, wid, scopes=["chat:write"], commands=["/a", "/b"])["app"]
    assert _claims() == {"CMD#/a": first["id"], "CMD#/b": first["id"]}
    assert api("PATCH", f"/apps/{first['id']}", body={"commands": ["/b", "/c"]})[0] == 200
    assert _claims() == {"CMD#/b": first["id"], "CMD#/c": first["id"]}
    second = create_app(api, wid, scopes=["chat:write"], commands=["/a"])["app"]  # released
    assert api("DELETE", f"/apps/{first['id']}")[0] == 204
    assert _claims() == {"CMD#/a": second["id"]}
    assert api("PATCH", f"/apps/{second['id']}", body={"commands": ["/b", "/c"]})[0] == 200


@pytest.mark.parametrize("how", ["create", "patch"])
def test_two_apps_racing_for_a_command_cannot_both_have_it(
    api: Api,
    workspace: dict[str, str],
    challenged: Challenged,
    how: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both pass the friendly check before either writes (staged: the check is skipped for
    the second); the claim in the write's transaction refuses the second with a 409."""
    from parley.domain import apps

    wid = workspace["wid"]
    first = create_app(api, wid, scopes=["chat:write"], commands=["/deploy"])["app"]
    monkeypatch.setattr(apps, "_check_commands_free", lambda *args: None)
    if how == "create":
        body = {"name": "Copy", "scopes": ["chat:write"], "commands": ["/x", "/deploy"]}
        status, reply = api("POST", f"/workspaces/{wid}/apps", body=body)
    else:
        other = create_app(api, wid, scopes=["chat:write"], commands=["/x"])["app"]
        status, reply = api("PATCH", f"/apps/{other['id']}", body={"commands": ["/deploy"]})
    assert status == 409, reply
    assert reply["error"]["code"] == "conflict"
    assert "/deploy" in reply["error"]["message"]
    assert _claims()["CMD#/deploy"] == first["id"]
    owners = [i for i in table_items() if i["SK"] == "APP" and "/deploy" in i.get("commands", [])]
    assert [i["appId"] for i in owners] == [first["id"]]
    if how == "patch":
        assert _claims()["CMD#/x"] == other["id"]  # nothing of the refused change was written
