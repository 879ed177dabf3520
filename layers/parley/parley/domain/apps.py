"""Apps: created and managed by workspace admins; each has a bot user, a bot token (shown
once, stored as a hash), scopes, and a signing secret for what Parley sends the app."""

from __future__ import annotations

from parley.apps.credentials import new_bot_token, new_signing_secret, token_hash
from parley.apps.delivery import HttpPoster, verify_url
from parley.apps.urls import UnsafeUrl, check_url
from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.ports.apps import CommandTaken, TokenChanged
from parley.domain.ports.apps import store as app_store
from parley.domain.records import AppRecord, UserRecord, WorkspaceMemberRecord
from parley.edge.schemas import App, AppCreated, CreateApp, UpdateApp
from parley.errors import Conflict, NotFound, ParleyError, Unauthorized
from parley.ids import iso_now, new_id
from parley.observability import MetricUnit, metrics
from parley.slack.scopes import SCOPE_NAMES_VERSION, effective_scopes


def app_view(item: AppRecord) -> App:
    return App(
        id=item.appId,
        workspaceId=item.workspaceId,
        name=item.name,
        scopes=list(item.scopes),
        eventsUrl=item.eventsUrl,
        commands=list(item.commands),
        commandUrl=item.commandUrl,
        botUserId=item.botUserId,
        hasToken=item.tokenHash is not None,
        events=list(item.events),
        eventsPaused=item.eventsPaused,
        createdBy=item.createdBy,
        createdAt=item.createdAt,
    )


class UnprocessableUrl(ParleyError):
    status, code = 422, "invalid_request"


def check_app_url(url: str | None, field: str, *, allow_private: bool) -> None:
    """A 422 naming the field when the SSRF guard refuses the URL (parley.apps.urls)."""
    if url is None:
        return
    try:
        check_url(url, allow_private=allow_private)
    except UnsafeUrl as refused:
        raise UnprocessableUrl(f"{field}: {refused}") from None


def _check_commands_free(workspace_id: str, commands: list[str], app_id: str | None) -> None:
    """A command name names one app of the workspace: 409 when another has it."""
    wanted = set(commands)
    for other in app_store.list_apps(workspace_id):
        taken = wanted & set(other.commands)
        if other.appId != app_id and taken:
            raise Conflict(f"{min(taken)} is already a command of the app {other.name}")


def create_app(
    caller: Caller, workspace_id: str, body: CreateApp, *, allow_private: bool = False
) -> AppCreated:
    """The app, its bot user (a workspace member with isBot) and its token, all at once."""
    access.workspace_admin(workspace_id, caller.user_id)
    check_app_url(body.eventsUrl, "eventsUrl", allow_private=allow_private)
    check_app_url(body.commandUrl, "commandUrl", allow_private=allow_private)
    _check_commands_free(workspace_id, body.commands, None)
    now = iso_now()
    token = new_bot_token()
    app_id, bot_user_id = new_id("A"), new_id("B")
    app = AppRecord(
        appId=app_id,
        workspaceId=workspace_id,
        name=body.name,
        scopes=tuple(sorted(set(body.scopes))),
        scopeNames=SCOPE_NAMES_VERSION,
        eventsUrl=body.eventsUrl,
        commands=tuple(sorted(set(body.commands))),
        commandUrl=body.commandUrl,
        events=tuple(sorted(set(body.events))),
        botUserId=bot_user_id,
        signingSecret=new_signing_secret(),
        tokenHash=token_hash(token),
        createdBy=caller.user_id,
        createdAt=now,
    )
    bot = UserRecord(userId=bot_user_id, name=body.name, email="", createdAt=now)
    member = WorkspaceMemberRecord(
        workspaceId=workspace_id, userId=bot_user_id, role="member", joinedAt=now, isBot=True
    )
    try:
        app_store.create_app(app, bot, member)
    except CommandTaken as taken:  # another app claimed it since the check above
        raise Conflict(f"{taken.command} is already a command of another app") from None
    metrics.add_metric("AppCreated", MetricUnit.Count, 1)
    return AppCreated(app=app_view(app), botToken=token, signingSecret=app.signingSecret)


def list_apps(caller: Caller, workspace_id: str) -> list[App]:
    access.workspace_admin(workspace_id, caller.user_id)
    return [app_view(item) for item in app_store.list_apps(workspace_id)]


def _managed_app(caller: Caller, app_id: str) -> AppRecord:
    """The app, for an admin of its workspace; 404 for anyone outside the workspace."""
    app = app_store.get_app(app_id)
    if app is None:
        raise NotFound("app not found")
    try:
        access.workspace_admin(app.workspaceId, caller.user_id)
    except NotFound:
        raise NotFound("app not found") from None
    return app


def delete_app(caller: Caller, app_id: str) -> None:
    app_store.delete_app(_managed_app(caller, app_id))


def rotate_token(caller: Caller, app_id: str) -> str:
    """A new token; the old one stops working at once."""
    app = _managed_app(caller, app_id)
    token = new_bot_token()
    _replace_token(app, token_hash(token))
    return token


def revoke_token(caller: Caller, app_id: str) -> None:
    """The app keeps existing without a token until an admin rotates it."""
    app = _managed_app(caller, app_id)
    if app.tokenHash is not None:
        _replace_token(app, None)


def _replace_token(app: AppRecord, new_hash: str | None) -> None:
    try:
        app_store.replace_token(app, new_hash)
    except TokenChanged:
        raise Conflict("the token was changed by another request; try again") from None


def update_app(
    caller: Caller, app_id: str, body: UpdateApp, poster: HttpPoster, *, allow_private: bool
) -> App:
    """Changes the fields the body names. A new eventsUrl must pass the URL guard and then
    the challenge handshake now (422 if not, and nothing changes), as Slack checks a request
    URL when it is saved; events then go to it without a second challenge."""
    app = _managed_app(caller, app_id)
    given = body.model_fields_set
    changes: dict[str, object] = {}
    if "name" in given and body.name is not None:
        changes["name"] = body.name
    if "commandUrl" in given:
        check_app_url(body.commandUrl, "commandUrl", allow_private=allow_private)
        changes["commandUrl"] = body.commandUrl
    if "commands" in given and body.commands is not None:
        _check_commands_free(app.workspaceId, body.commands, app.appId)
        changes["commands"] = sorted(set(body.commands))
    if "events" in given and body.events is not None:
        changes["events"] = sorted(set(body.events))
    if "eventsUrl" in given and body.eventsUrl != app.eventsUrl:
        changes["eventsUrl"] = body.eventsUrl
        if body.eventsUrl is not None:
            check_app_url(body.eventsUrl, "eventsUrl", allow_private=allow_private)
            if not verify_url(poster, body.eventsUrl, app.signingSecret):
                raise UnprocessableUrl(
                    "eventsUrl: the URL did not answer the url_verification challenge with "
                    "a 2xx carrying the challenge within 3 seconds; nothing was changed"
                )
            changes["eventsVerifiedUrl"] = body.eventsUrl
    try:
        app = app_store.update_app(app, changes)
    except CommandTaken as taken:
        raise Conflict(f"{taken.command} is already a command of another app") from None
    metrics.add_metric("AppUpdated", MetricUnit.Count, 1)
    return app_view(app)


def resume_events(caller: Caller, app_id: str) -> App:
    """Deliveries start again (from new events; those lost while paused are not replayed)."""
    app = _managed_app(caller, app_id)
    app_store.resume_events(app.appId)
    return app_view(app_store.get_app(app_id) or app)


def authenticate(token: str) -> Caller:
    """The bot behind a token, or 401: an unknown, revoked or rotated-away token."""
    # Tokens are ASCII; anything else (a lone surrogate from JSON) is no token of ours.
    found = app_store.get_token(token_hash(token)) if token and token.isascii() else None
    if found is None:
        raise Unauthorized("invalid or revoked bot token")
    return Caller(
        user_id=found.botUserId,
        app_id=found.appId,
        workspace_id=found.workspaceId,
        scopes=effective_scopes(found.scopes, found.scopeNames),
    )
