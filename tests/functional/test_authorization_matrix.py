"""Every HTTP route and WebSocket action against every role, generated from the route table.

The rows below are keyed by the template's own route keys: a route added to template.yaml
without a row here fails `test_every_template_route_has_a_row`, and so does a row for a
route that no longer exists. A row names the route's access rule (what API.md says about
who may call it) and its success status; the expected answer for each role follows from
the rule, so a new route costs one line (plus a world id if it takes a new path parameter).

Roles, in a workspace whose admin is Alice:
- outsider: Carol, not in the workspace;
- workspace member: Erin, in the workspace but not in the channel;
- channel member: Dave, in the channel, not the message's author;
- author: Bob, who created the channel and wrote its message;
- admin: Alice, the workspace admin, not in the channel (admin rights reveal no private
  channel).

Each cell runs in a fresh world for the channel's kind (public or private), and after each
cell the live connections of everyone outside a private channel must have received nothing
about it.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.functional.conftest import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ERIN,
    TABLE,
    Api,
    Context,
    RecordingPoster,
    load_function,
    template,
    template_http_routes,
    ws_event,
)
from tests.functional.test_files import ready_file
from tests.functional.test_webhooks import slack_post
from tests.slack_exports import sample_export

ROLES = {
    "outsider": CAROL,
    "workspace_member": ERIN,
    "channel_member": DAVE,
    "author": BOB,
    "admin": ALICE,
}
KINDS = ("public", "private")

# Access rules: what the caller must be for the route to succeed, and what the others get.
ANYONE = "anyone"  # any signed-in user
WORKSPACE = "workspace"  # workspace members; outsiders get 404
SEE_CHANNEL = "see_channel"  # who may see the channel: a public one's workspace, else members
IN_CHANNEL = "in_channel"  # channel members; a public channel's other workspace members 403
AUTHOR = "author"  # who may see the channel and wrote the message; other viewers 403
AUTHOR_OR_ADMIN = "author_or_admin"  # as AUTHOR, and workspace admins who may see it
UPLOADER = "uploader"  # the file's uploader only; to everyone else the upload does not exist
ADMIN = "admin"  # workspace admins; its other members 403, outsiders 404
IMPORT_ADMIN = "import_admin"  # an import: its workspace's admins; to everyone else it is 404
# Webhooks: a workspace admin who is in the channel. No role here is both (the admin is not
# in the channel), so every role is refused: 403 to who sees the channel, else 404;
# tests/unit/test_webhooks.py covers the admin in the channel.
CHANNEL_ADMIN = "channel_admin"
HOOK_TOKEN = "hook_token"  # the URL's token is the credential: a wrong one is 404 to all
OWNER = "owner"  # a scheduled message or reminder: its owner's (Bob's); to all others 404
# A channel's retention: workspace admins who may see the channel; other viewers 403.
SEEING_ADMIN = "seeing_admin"


@dataclass(frozen=True)
class Row:
    rule: str
    ok: int = 200
    body: Callable[[World], Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    archived: bool = False  # the route's {cid} is the world's archived channel of its kind


@dataclass
class World:
    """The ids a route's path parameters and bodies are made of."""

    wid: str
    cid: str
    ts: str
    code: str
    kind: str
    outsiders_own: str  # Carol's own workspace, where her connection lives
    fid: str  # a ready file of Bob's, shared by the channel's message
    app_id: str  # an app Alice (the admin) made
    import_id: str  # a Slack import Alice made, its zip uploaded, not started
    usergroup_id: str  # a user group Alice (the admin) made
    bookmark_id: str  # a bookmark Bob made in the channel
    archived_cid: str  # a channel of the same kind, Bob's, with Dave in it, archived
    scheduled_id: str  # a message Bob scheduled in the channel
    reminder_id: str  # a reminder Bob set about the channel's message

    def path(self, template_path: str, archived: bool = False) -> str:
        values = {"wid": self.wid, "cid": self.cid, "ts": self.ts, "threadTs": self.ts}
        values |= {"code": self.code, "name": "thumbsup", "fid": self.fid}
        values |= {"appId": self.app_id, "hookId": "H-unknown", "token": "pxh-not-a-hook"}
        values |= {"importId": self.import_id, "gid": self.usergroup_id}
        if archived:
            values["cid"] = self.archived_cid
        # `{id}` names a bookmark, a scheduled message or a reminder, by the route.
        if template_path.startswith("/scheduled/"):
            values["id"] = self.scheduled_id
        elif template_path.startswith("/reminders/"):
            values["id"] = self.reminder_id
        else:
            values["id"] = self.bookmark_id
        return template_path.format(**values)


HTTP_ROWS: dict[str, Row] = {
    "GET /me": Row(ANYONE),
    "POST /workspaces": Row(ANYONE, 201, body=lambda w: {"name": "Other"}),
    "GET /workspaces": Row(ANYONE),
    "GET /workspaces/{wid}": Row(WORKSPACE),
    "POST /workspaces/{wid}/invites": Row(WORKSPACE, 201),
    "POST /invites/{code}/accept": Row(ANYONE),
    "GET /workspaces/{wid}/members": Row(WORKSPACE),
    "POST /workspaces/{wid}/channels": Row(WORKSPACE, 201, body=lambda w: {"name": "fresh"}),
    "GET /workspaces/{wid}/channels": Row(WORKSPACE),
    "POST /workspaces/{wid}/dms": Row(
        WORKSPACE, body=lambda w: {"userIds": [ALICE, BOB, DAVE, ERIN]}
    ),
    "GET /channels/{cid}": Row(SEE_CHANNEL),
    "PATCH /channels/{cid}": Row(IN_CHANNEL, body=lambda w: {"topic": "changed"}),
    "POST /channels/{cid}/join": Row(SEE_CHANNEL),
    "POST /channels/{cid}/leave": Row(SEE_CHANNEL, 204),
    "POST /channels/{cid}/members": Row(IN_CHANNEL, body=lambda w: {"userIds": [ERIN]}),
    "GET /channels/{cid}/members": Row(SEE_CHANNEL),
    "GET /channels/{cid}/messages": Row(SEE_CHANNEL),
    "POST /channels/{cid}/messages": Row(IN_CHANNEL, 201, body=lambda w: {"text": "hi"}),
    "GET /channels/{cid}/messages/{ts}": Row(SEE_CHANNEL),
    "GET /channels/{cid}/messages/{ts}/replies": Row(SEE_CHANNEL),
    "PATCH /channels/{cid}/messages/{ts}": Row(AUTHOR, body=lambda w: {"text": "edited"}),
    "DELETE /channels/{cid}/messages/{ts}": Row(AUTHOR_OR_ADMIN, 204),
    "PUT /channels/{cid}/messages/{ts}/reactions/{name}": Row(IN_CHANNEL),
    "DELETE /channels/{cid}/messages/{ts}/reactions/{name}": Row(IN_CHANNEL),
    "POST /channels/{cid}/read": Row(IN_CHANNEL, 204, body=lambda w: {"ts": w.ts}),
    "POST /channels/{cid}/threads/{threadTs}/read": Row(
        SEE_CHANNEL, 204, body=lambda w: {"ts": w.ts}
    ),
    "PUT /channels/{cid}/pins/{ts}": Row(IN_CHANNEL, 204),
    "DELETE /channels/{cid}/pins/{ts}": Row(IN_CHANNEL, 204),
    "GET /channels/{cid}/pins": Row(SEE_CHANNEL),
    "GET /workspaces/{wid}/unreads": Row(WORKSPACE),
    "GET /workspaces/{wid}/search": Row(WORKSPACE, query={"q": "hello"}),
    "GET /workspaces/{wid}/presence": Row(WORKSPACE, query={"userIds": f"{ALICE},{CAROL}"}),
    "PUT /me/presence": Row(ANYONE, 204, body=lambda w: {"status": "away"}),
    "GET /me/notifications": Row(ANYONE),
    "POST /workspaces/{wid}/files": Row(
        WORKSPACE, 201, body=lambda w: {"name": "n.txt", "size": 5, "contentType": "text/plain"}
    ),
    "POST /files/{fid}/complete": Row(UPLOADER),
    "GET /files/{fid}": Row(SEE_CHANNEL),
    "POST /workspaces/{wid}/apps": Row(
        ADMIN, 201, body=lambda w: {"name": "Deploy bot", "scopes": ["chat:write"]}
    ),
    "GET /workspaces/{wid}/apps": Row(ADMIN),
    "DELETE /apps/{appId}": Row(ADMIN, 204),
    "POST /apps/{appId}/token/rotate": Row(ADMIN),
    "DELETE /apps/{appId}/token": Row(ADMIN, 204),
    "POST /apps/{appId}/events/resume": Row(ADMIN),
    "PATCH /apps/{appId}": Row(ADMIN, body=lambda w: {"name": "Renamed bot"}),
    # A slash command's response_url: like a hook's, the URL's token is the credential.
    "POST /commands/{token}": Row(HOOK_TOKEN, body=lambda w: {"text": "later"}),
    "POST /channels/{cid}/webhooks": Row(CHANNEL_ADMIN, 201, body=lambda w: {"appId": w.app_id}),
    "GET /channels/{cid}/webhooks": Row(CHANNEL_ADMIN),
    "DELETE /channels/{cid}/webhooks/{hookId}": Row(CHANNEL_ADMIN, 204),
    "POST /hooks/{token}": Row(HOOK_TOKEN, body=lambda w: {"text": "from a hook"}),
    "POST /workspaces/{wid}/imports": Row(
        ADMIN, 201, body=lambda w: {"name": "export.zip", "size": 1000}
    ),
    "POST /imports/{importId}/start": Row(IMPORT_ADMIN, 202),
    "GET /imports/{importId}": Row(IMPORT_ADMIN),
    "POST /workspaces/{wid}/usergroups": Row(
        ADMIN, 201, body=lambda w: {"handle": "fresh", "name": "Fresh", "userIds": [BOB]}
    ),
    "GET /workspaces/{wid}/usergroups": Row(WORKSPACE),
    "PATCH /usergroups/{gid}": Row(ADMIN, body=lambda w: {"name": "Renamed"}),
    "DELETE /usergroups/{gid}": Row(ADMIN, 204),
    "POST /channels/{cid}/bookmarks": Row(
        IN_CHANNEL, 201, body=lambda w: {"title": "Docs", "link": "https://docs.example.com"}
    ),
    "GET /channels/{cid}/bookmarks": Row(SEE_CHANNEL),
    "PATCH /bookmarks/{id}": Row(IN_CHANNEL, body=lambda w: {"title": "Renamed"}),
    "DELETE /bookmarks/{id}": Row(IN_CHANNEL, 204),
    # The channel's creator (Bob, the "author" here) or a workspace admin who sees it.
    "POST /channels/{cid}/archive": Row(AUTHOR_OR_ADMIN),
    "POST /channels/{cid}/unarchive": Row(AUTHOR_OR_ADMIN, archived=True),
    "PUT /channels/{cid}/notifications": Row(IN_CHANNEL, 204, body=lambda w: {"level": "all"}),
    "PUT /me/dnd": Row(ANYONE, 204, body=lambda w: {"until": "2030-01-01T00:00:00Z"}),
    "PUT /workspaces/{wid}/retention": Row(ADMIN, 204, body=lambda w: {"days": 30}),
    "PUT /channels/{cid}/retention": Row(SEEING_ADMIN, 204, body=lambda w: {"days": 30}),
    "POST /channels/{cid}/scheduled": Row(
        IN_CHANNEL, 201, body=lambda w: {"text": "later", "postAt": _ahead(minutes=5)}
    ),
    "GET /me/scheduled": Row(ANYONE),
    "DELETE /scheduled/{id}": Row(OWNER, 204),
    "POST /me/reminders": Row(ANYONE, 201, body=lambda w: {"text": "x", "at": _ahead(hours=1)}),
    "GET /me/reminders": Row(ANYONE),
    "DELETE /reminders/{id}": Row(OWNER, 204),
}

# WebSocket actions: the route key, its function and a frame. The connection belongs to
# the caller's own workspace (an outsider connects to one of their own: the handshake
# refuses anything else), so a frame naming our channel is how an outsider reaches it.
WS_ROWS: dict[str, tuple[str, str, Callable[[World], dict[str, Any]]]] = {
    "sendMessage": (IN_CHANNEL, "ws_send_message", lambda w: {"channelId": w.cid, "text": "x"}),
    "typing": (IN_CHANNEL, "ws_typing", lambda w: {"channelId": w.cid}),
    "markRead": (IN_CHANNEL, "ws_mark_read", lambda w: {"channelId": w.cid, "ts": w.ts}),
    # Presence is scoped to the connection's own workspace: Bob as seen from Carol's.
    "subscribePresence": (ANYONE, "ws_subscribe_presence", lambda w: {"userIds": [BOB]}),
    "ping": (ANYONE, "ws_ping", lambda w: {}),
}
# Routes that take no caller's frame: the handshake and its end (tests/unit/test_websocket.py
# and the authorizer's tests cover who may connect), and the catch-all error route.
WS_NOT_ACTIONS = {"$connect", "$disconnect", "$default"}


def expected(rule: str, ok: int, role: str, kind: str) -> int:
    """The status API.md implies for `role` calling a route under `rule` in a `kind` channel."""
    member = role in ("channel_member", "author")
    sees = role != "outsider" and (kind == "public" or member)
    answers = {
        ANYONE: ok,
        WORKSPACE: 404 if role == "outsider" else ok,
        SEE_CHANNEL: ok if sees else 404,
        IN_CHANNEL: ok if member else (403 if sees else 404),
        AUTHOR: ok if role == "author" else (403 if sees else 404),
        AUTHOR_OR_ADMIN: ok if role in ("author", "admin") and sees else (403 if sees else 404),
        UPLOADER: ok if role == "author" else 404,
        ADMIN: ok if role == "admin" else (404 if role == "outsider" else 403),
        IMPORT_ADMIN: ok if role == "admin" else 404,
        CHANNEL_ADMIN: 403 if sees else 404,
        HOOK_TOKEN: 404,
        OWNER: ok if role == "author" else 404,
        SEEING_ADMIN: ok if role == "admin" and sees else (403 if sees else 404),
    }
    return answers[rule]


def template_ws_routes() -> set[str]:
    return {
        r["Properties"]["RouteKey"]
        for r in template()["Resources"].values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
    }


def test_every_template_route_has_a_row() -> None:
    assert set(HTTP_ROWS) == template_http_routes()
    assert set(WS_ROWS) | WS_NOT_ACTIONS == template_ws_routes()


def _build_worlds(api: Api, connect: Callable[[str, str, str], None]) -> dict[str, World]:
    """Alice's workspace with Bob, Dave and Erin; a channel of each kind that Bob created,
    with Dave added and a message of Bob's sharing a file of his; a live connection for
    every role (Carol's in a workspace of her own)."""
    _, created = api("POST", "/workspaces", body={"name": "Acme"})
    wid = created["workspace"]["id"]
    for user in (BOB, DAVE, ERIN):
        _, invite = api("POST", f"/workspaces/{wid}/invites")
        status, _ = api("POST", f"/invites/{invite['invite']['code']}/accept", user=user)
        assert status == 200
    _, invite = api("POST", f"/workspaces/{wid}/invites")
    _, own = api("POST", "/workspaces", user=CAROL, body={"name": "Carols"})
    app = {"name": "Matrix bot", "scopes": ["chat:write", "channels:read"]}
    status, made = api("POST", f"/workspaces/{wid}/apps", body=app)
    assert status == 201, made
    import_id = _uploaded_import(api, wid)
    group = {"handle": "oncall", "name": "On call", "userIds": [BOB, DAVE]}
    status, usergroup = api("POST", f"/workspaces/{wid}/usergroups", body=group)
    assert status == 201, usergroup
    worlds = {}
    for kind in KINDS:
        body = {"name": f"target-{kind}", "private": kind == "private"}
        status, channel = api("POST", f"/workspaces/{wid}/channels", user=BOB, body=body)
        assert status == 201, channel
        cid = channel["channel"]["id"]
        status, _ = api("POST", f"/channels/{cid}/members", user=BOB, body={"userIds": [DAVE]})
        assert status == 200
        fid = ready_file(api, wid, user=BOB)["id"]
        message = {"text": "hi", "fileIds": [fid]}
        status, posted = api("POST", f"/channels/{cid}/messages", user=BOB, body=message)
        assert status == 201
        ts, code = posted["message"]["ts"], invite["invite"]["code"]
        mark = {"title": "Runbook", "link": "https://wiki.example.com/runbook"}
        status, bookmark = api("POST", f"/channels/{cid}/bookmarks", user=BOB, body=mark)
        assert status == 201, bookmark
        body = {"name": f"archived-{kind}", "private": kind == "private"}
        _, archived = api("POST", f"/workspaces/{wid}/channels", user=BOB, body=body)
        archived_cid = archived["channel"]["id"]
        status, _ = api(
            "POST", f"/channels/{archived_cid}/members", user=BOB, body={"userIds": [DAVE]}
        )
        assert status == 200
        assert api("POST", f"/channels/{archived_cid}/archive", user=BOB)[0] == 200
        later = {"text": "later", "postAt": _ahead(minutes=5)}
        status, scheduled = api("POST", f"/channels/{cid}/scheduled", user=BOB, body=later)
        assert status == 201, scheduled
        about = {"text": "look", "at": _ahead(hours=1), "channelId": cid, "ts": ts}
        status, reminder = api("POST", "/me/reminders", user=BOB, body=about)
        assert status == 201, reminder
        worlds[kind] = World(
            wid,
            cid,
            ts,
            code,
            kind,
            own["workspace"]["id"],
            fid,
            made["app"]["id"],
            import_id,
            usergroup["usergroup"]["id"],
            bookmark["bookmark"]["id"],
            archived_cid,
            scheduled["scheduled"]["id"],
            reminder["reminder"]["id"],
        )
    for role, user in ROLES.items():
        connect(f"conn-{role}", user, _connection_workspace(worlds["public"], role))
    return worlds


def _ahead(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def _uploaded_import(api: Api, wid: str) -> str:
    """An import of the sample Slack export, its zip uploaded with its form."""
    data = sample_export().build()
    body = {"name": "export.zip", "size": len(data)}
    status, created = api("POST", f"/workspaces/{wid}/imports", body=body)
    assert status == 201, created
    form = created["upload"]
    reply = requests.post(form["url"], data=form["fields"], files={"file": data}, timeout=10)
    assert reply.status_code == 204, reply.text
    return str(created["import"]["id"])


def _connection_workspace(world: World, role: str) -> str:
    return world.outsiders_own if role == "outsider" else world.wid


class _Snapshot:
    """The worlds, built once per module and put back before each cell: building them
    takes some twenty requests, restoring moto's in-memory table a deep copy."""

    worlds: dict[str, World] | None = None
    table: Any = None

    @staticmethod
    def _tables() -> dict[str, Any]:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables  # type: ignore[no-any-return]  # moto's backends are untyped

    @classmethod
    def world(cls, api: Api, connect: Callable[[str, str, str], None], kind: str) -> World:
        if cls.worlds is None:
            cls.worlds = _build_worlds(api, connect)
            cls.table = copy.deepcopy(cls._tables()[TABLE])
        else:
            cls._tables()[TABLE] = copy.deepcopy(cls.table)
        return cls.worlds[kind]


class _NoHits:
    """The search engine's stand-in: who may search is decided before the engine is asked
    (tests/integration/test_authorization.py runs the real one)."""

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"hits": {"hits": [], "total": {"value": 0}}}


@pytest.fixture
def world_of(
    api: Api,
    poster: RecordingPoster,
    connect: Callable[[str, str, str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[str], World]:
    monkeypatch.setattr(sys.modules["search_routes"], "message_index", lambda _: _NoHits())

    def _world(kind: str) -> World:
        world = _Snapshot.world(api, connect, kind)
        poster.frames.clear()
        return world

    return _world


def _assert_private_channel_stays_private(poster: RecordingPoster, world: World) -> None:
    """Whoever is not in the channel now (after the cell's request) got no frame about it."""
    from parley.adapters.dynamodb.channels import get_membership

    if world.kind != "private":
        return
    for role in ("outsider", "workspace_member", "admin"):
        if get_membership(world.cid, ROLES[role]) is None:
            leaked = [f for f in poster.frames[f"conn-{role}"] if world.cid in json.dumps(f)]
            assert leaked == [], f"{role} saw {leaked}"


def _kinds(rule: str) -> tuple[str, ...]:
    """Rules that do not involve the channel answer the same whatever its kind."""
    return (
        ("public",)
        if rule in (ANYONE, WORKSPACE, ADMIN, IMPORT_ADMIN, HOOK_TOKEN, OWNER)
        else KINDS
    )


CELLS = [
    pytest.param(route, kind, role, id=f"{route}-{kind}-{role}")
    for route, row in HTTP_ROWS.items()
    for kind in _kinds(row.rule)
    for role in ROLES
]


@pytest.mark.parametrize(("route", "kind", "role"), CELLS)
def test_http_route_answers_each_role_as_the_contract_says(
    api: Api,
    poster: RecordingPoster,
    world_of: Callable[[str], World],
    route: str,
    kind: str,
    role: str,
) -> None:
    row = HTTP_ROWS[route]
    world = world_of(kind)
    method, path = route.split(" ", 1)
    if row.rule == HOOK_TOKEN:  # Slack's answers there: its error text, no Parley error
        status, _, text = slack_post(world.path(path), row.body(world) if row.body else None)
        assert status == expected(row.rule, row.ok, role, kind), text
        assert any(error in text for error in ("no_service", "expired_url")), text
        return
    status, reply = api(
        method,
        world.path(path, row.archived),
        user=ROLES[role],
        body=row.body(world) if row.body else None,
        query=row.query or None,
    )
    assert status == expected(row.rule, row.ok, role, kind), reply
    if status >= 400:
        assert set(reply["error"]) == {"code", "message"}
        assert world.cid not in reply["error"]["message"]
    _assert_private_channel_stays_private(poster, world)


WS_CELLS = [
    pytest.param(action, kind, role, id=f"{action}-{kind}-{role}")
    for action, (rule, _, _) in WS_ROWS.items()
    for kind in _kinds(rule)
    for role in ROLES
]
_WS_ERROR_CODES = {403: "forbidden", 404: "not_found"}


@pytest.mark.parametrize(("action", "kind", "role"), WS_CELLS)
def test_websocket_action_answers_each_role_as_the_contract_says(
    poster: RecordingPoster,
    world_of: Callable[[str], World],
    action: str,
    kind: str,
    role: str,
) -> None:
    rule, function, frame = WS_ROWS[action]
    world = world_of(kind)
    body = {"action": action, "id": "m1", **frame(world)}
    workspace = _connection_workspace(world, role)
    event = ws_event(f"{function}.json", f"conn-{role}", ROLES[role], workspace, body)
    reply = json.loads(load_function(function).lambda_handler(event, Context())["body"])
    want = expected(rule, 200, role, kind)
    if want == 200:
        assert reply.get("type") != "error", reply
    else:
        assert reply["type"] == "error", reply
        assert reply["error"]["code"] == _WS_ERROR_CODES[want], reply
    assert reply["replyTo"] == "m1"
    _assert_private_channel_stays_private(poster, world)
