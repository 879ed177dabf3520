"""The HTTP API: routes of API.md on Powertools' event handler, validated by pydantic.

Glue only: parse, identify the caller, call one domain function, shape the reply.
"""

from __future__ import annotations

import functools
import urllib.parse
from typing import Annotated, Any

from app_routes import router as app_router
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from command_routes import router as command_router
from file_routes import router as file_router
from hook_routes import api_url
from hook_routes import router as hook_router
from import_routes import router as import_router
from params import Cursor, Limit, TsQuery
from pydantic import ValidationError
from scheduling_routes import router as scheduling_router
from search_routes import router as search_router
from team_routes import router as team_router
from usergroup_routes import router as usergroup_router

from parley import wiring
from parley.adapters.cognito import UserPool
from parley.domain import (
    channels,
    claims,
    commands,
    messages,
    notifications,
    pins,
    presence,
    reactions,
    reads,
    users,
    workspaces,
)
from parley.domain.caller import Caller
from parley.edge.http import describe, token_caller
from parley.edge.schemas import (
    AddMembers,
    ChannelReply,
    ChannelsReply,
    CommandReply,
    CreateChannel,
    CreateWorkspace,
    EditMessage,
    InviteReply,
    MarkRead,
    MessageReply,
    MessagesReply,
    NotificationsReply,
    OpenDirectMessage,
    PostMessage,
    PresenceReply,
    SetPresence,
    Unreads,
    UpdateChannel,
    UserReply,
    UsersReply,
    WorkspaceMembersReply,
    WorkspaceReply,
    WorkspacesReply,
)
from parley.errors import NotFound, ParleyError, RateLimited
from parley.observability import logger, metrics, tracer
from parley.paging import offset_page
from parley.wiring import configured

app = APIGatewayHttpResolver(enable_validation=True)
app.include_router(search_router)
app.include_router(file_router)
app.include_router(app_router)
app.include_router(hook_router)
app.include_router(command_router)
app.include_router(import_router)
app.include_router(usergroup_router)
app.include_router(team_router)
app.include_router(scheduling_router)


@functools.cache
def _user_pool() -> UserPool | None:
    config = configured()
    return UserPool(config.user_pool_id, config.region) if config.user_pool_id else None


def _claim(user_id: str, email: str) -> None:
    """A new user's claim on the placeholders of Slack imports with their email."""
    config = configured()
    queue = wiring.import_queue(config) if config.import_queue_url else None
    claims.claim_placeholders(user_id, email, queue)


def _caller() -> Caller:
    """The token's user, provisioned on first sight (API Gateway already checked the token)."""
    caller = token_caller(app.current_event)
    pool = _user_pool()
    users.provision(caller, pool.profile if pool else None, _claim)
    logger.append_keys(userId=caller.user_id)
    return caller


def _created(body: Any) -> Response[Any]:
    return Response(status_code=201, content_type="application/json", body=body)


# ------------------------------------------------------------------ identity and workspaces


@app.get("/me")
def get_me() -> UserReply:
    caller = _caller()
    pool = _user_pool()
    return UserReply(user=users.ensure_user(caller, pool.profile if pool else None, _claim))


@app.post("/workspaces", responses={201: {"description": "created"}})
def create_workspace(body: CreateWorkspace) -> Response[WorkspaceReply]:
    return _created(WorkspaceReply(workspace=workspaces.create_workspace(_caller(), body)))


@app.get("/workspaces")
def list_workspaces() -> WorkspacesReply:
    return WorkspacesReply(workspaces=workspaces.list_workspaces(_caller()))


@app.get("/workspaces/<wid>")
def get_workspace(wid: str) -> WorkspaceReply:
    return WorkspaceReply(workspace=workspaces.get_workspace(_caller(), wid))


@app.post("/workspaces/<wid>/invites", responses={201: {"description": "created"}})
def create_invite(wid: str) -> Response[InviteReply]:
    return _created(InviteReply(invite=workspaces.create_invite(_caller(), wid)))


@app.post("/invites/<code>/accept")
def accept_invite(code: str) -> WorkspaceReply:
    workspace = workspaces.accept_invite(_caller(), code, wiring.broadcaster())
    return WorkspaceReply(workspace=workspace)


@app.get("/workspaces/<wid>/members")
def list_workspace_members(
    wid: str, limit: Limit = 50, cursor: Cursor = None
) -> WorkspaceMembersReply:
    members, next_cursor = workspaces.list_members(_caller(), wid, limit, cursor)
    return WorkspaceMembersReply(members=members, nextCursor=next_cursor)


# ------------------------------------------------------------------ channels


@app.post("/workspaces/<wid>/channels", responses={201: {"description": "created"}})
def create_channel(wid: str, body: CreateChannel) -> Response[ChannelReply]:
    channel = channels.create_channel(_caller(), wid, body, wiring.broadcaster())
    return _created(ChannelReply(channel=channel))


@app.get("/workspaces/<wid>/channels")
def list_channels(wid: str, limit: Limit = 50, cursor: Cursor = None) -> ChannelsReply:
    page, next_cursor = offset_page(channels.list_channels(_caller(), wid), limit, cursor)
    return ChannelsReply(channels=page, nextCursor=next_cursor)


@app.post("/workspaces/<wid>/dms")
def open_direct_message(wid: str, body: OpenDirectMessage) -> ChannelReply:
    channel = channels.open_direct_message(_caller(), wid, body.userIds, wiring.broadcaster())
    return ChannelReply(channel=channel)


@app.get("/channels/<cid>")
def get_channel(cid: str) -> ChannelReply:
    return ChannelReply(channel=channels.get_channel(_caller(), cid))


@app.patch("/channels/<cid>")
def update_channel(cid: str, body: UpdateChannel) -> ChannelReply:
    return ChannelReply(channel=channels.update_channel(_caller(), cid, body, wiring.broadcaster()))


@app.post("/channels/<cid>/join")
def join_channel(cid: str) -> ChannelReply:
    return ChannelReply(channel=channels.join_channel(_caller(), cid, wiring.broadcaster()))


@app.post("/channels/<cid>/leave", responses={204: {"description": "left"}})
def leave_channel(cid: str) -> Response[None]:
    channels.leave_channel(_caller(), cid, wiring.broadcaster())
    return Response(status_code=204)


@app.post("/channels/<cid>/members")
def add_channel_members(cid: str, body: AddMembers) -> UsersReply:
    added = channels.add_members(_caller(), cid, body.userIds, wiring.broadcaster())
    return UsersReply(members=added)


@app.get("/channels/<cid>/members")
def list_channel_members(cid: str, limit: Limit = 50, cursor: Cursor = None) -> UsersReply:
    members, next_cursor = channels.list_members(_caller(), cid, limit, cursor)
    return UsersReply(members=members, nextCursor=next_cursor)


# ------------------------------------------------------------------ messages


@app.get("/channels/<cid>/messages")
def list_messages(
    cid: str,
    oldest: TsQuery = None,
    latest: TsQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MessagesReply:
    found, next_cursor = messages.list_messages(
        _caller(), cid, oldest=oldest, latest=latest, limit=limit, cursor=cursor
    )
    return MessagesReply(messages=found, nextCursor=next_cursor)


@app.post(
    "/channels/<cid>/messages",
    responses={
        201: {"description": "created"},
        200: {
            "description": "a repeated clientMsgId: the first message (`{message}`); or a "
            "slash command (`/name args`): what became of it (`{command}`), nothing being "
            "posted as the sender"
        },
    },
)
def post_message(cid: str, body: PostMessage) -> Response[MessageReply | CommandReply]:
    invocation = commands.parse(body.text)
    if invocation is not None:
        poster = wiring.http_poster(configured())
        outbound = commands.Outbound(poster, api_url(app.current_event))
        result = commands.invoke(
            _caller(), cid, invocation, body, publisher=wiring.broadcaster(), outbound=outbound
        )
        return Response(200, "application/json", CommandReply(command=result))
    message, created = messages.post_message(_caller(), cid, body, wiring.broadcaster())
    reply = MessageReply(message=message)
    return _created(reply) if created else Response(200, "application/json", reply)


@app.get("/channels/<cid>/messages/<ts>")
def get_message(cid: str, ts: str) -> MessageReply:
    return MessageReply(message=messages.get_message(_caller(), cid, ts))


@app.patch("/channels/<cid>/messages/<ts>")
def edit_message(cid: str, ts: str, body: EditMessage) -> MessageReply:
    message = messages.edit_message(
        _caller(), cid, ts, body.text, wiring.broadcaster(), blocks=body.blocks
    )
    return MessageReply(message=message)


@app.delete("/channels/<cid>/messages/<ts>", responses={204: {"description": "deleted"}})
def delete_message(cid: str, ts: str) -> Response[None]:
    messages.delete_message(_caller(), cid, ts, wiring.broadcaster())
    return Response(status_code=204)


@app.get("/channels/<cid>/messages/<ts>/replies")
def list_replies(cid: str, ts: str, limit: Limit = 50, cursor: Cursor = None) -> MessagesReply:
    found, next_cursor = messages.list_replies(_caller(), cid, ts, limit, cursor)
    return MessagesReply(messages=found, nextCursor=next_cursor)


def _path_segment(raw: str) -> str:
    """A path parameter as the client meant it: the resolver matches the raw path, so a
    browser's encodeURIComponent("+1") arrives as %2B1."""
    return urllib.parse.unquote(raw)


@app.put("/channels/<cid>/messages/<ts>/reactions/<name>")
def add_reaction(cid: str, ts: str, name: str) -> MessageReply:
    name = _path_segment(name)
    message, _ = reactions.react(_caller(), cid, ts, name, wiring.broadcaster(), add=True)
    return MessageReply(message=message)


@app.delete("/channels/<cid>/messages/<ts>/reactions/<name>")
def remove_reaction(cid: str, ts: str, name: str) -> MessageReply:
    name = _path_segment(name)
    message, _ = reactions.react(_caller(), cid, ts, name, wiring.broadcaster(), add=False)
    return MessageReply(message=message)


# ------------------------------------------------------------------ read state


@app.post("/channels/<cid>/read", responses={204: {"description": "marked"}})
def mark_channel_read(cid: str, body: MarkRead) -> Response[None]:
    reads.mark_channel(_caller(), cid, body.ts, wiring.broadcaster())
    return Response(status_code=204)


@app.post("/channels/<cid>/threads/<threadTs>/read", responses={204: {"description": "marked"}})
def mark_thread_read(cid: str, threadTs: str, body: MarkRead) -> Response[None]:
    reads.mark_thread(_caller(), cid, threadTs, body.ts, wiring.broadcaster())
    return Response(status_code=204)


@app.get("/workspaces/<wid>/unreads")
def list_unreads(wid: str) -> Unreads:
    return reads.unreads(_caller(), wid)


# ------------------------------------------------------------------ presence


@app.get("/workspaces/<wid>/presence")
def get_presence(wid: str, userIds: Annotated[str, Query(max_length=4000)] = "") -> PresenceReply:
    wanted = [u for u in userIds.split(",") if u]
    timeout_s = configured().presence_timeout_seconds
    found = presence.presence_of(_caller(), wid, wanted, timeout_s=timeout_s)
    return PresenceReply(presence=found)  # type: ignore[arg-type]  # presence_of answers str; its values are only active or away


@app.put("/me/presence", responses={204: {"description": "set"}})
def set_presence(body: SetPresence) -> Response[None]:
    timeout_s = configured().presence_timeout_seconds
    presence.set_manual(_caller(), body.status == "away", wiring.broadcaster(), timeout_s=timeout_s)
    return Response(status_code=204)


@app.get("/me/notifications")
def list_notifications(limit: Limit = 50, cursor: Cursor = None) -> NotificationsReply:
    items, next_cursor = notifications.list_notifications(_caller(), limit, cursor)
    return NotificationsReply(notifications=items, nextCursor=next_cursor)


# ------------------------------------------------------------------ pins


@app.put("/channels/<cid>/pins/<ts>", responses={204: {"description": "pinned"}})
def pin_message(cid: str, ts: str) -> Response[None]:
    pins.set_pin(_caller(), cid, ts, wiring.broadcaster(), pinned=True)
    return Response(status_code=204)


@app.delete("/channels/<cid>/pins/<ts>", responses={204: {"description": "unpinned"}})
def unpin_message(cid: str, ts: str) -> Response[None]:
    pins.set_pin(_caller(), cid, ts, wiring.broadcaster(), pinned=False)
    return Response(status_code=204)


@app.get("/channels/<cid>/pins")
def list_pins(cid: str) -> MessagesReply:
    return MessagesReply(messages=pins.list_pins(_caller(), cid))


# ------------------------------------------------------------------ errors


def _error(status: int, code: str, message: str) -> Response[Any]:
    return _reply(status, {"error": {"code": code, "message": message}})


def _reply(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


@app.exception_handler(ParleyError)
def domain_error(error: ParleyError) -> Response[Any]:
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else None
    return _reply(error.status, error.to_dict(), headers)


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response[Any]:
    problems = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return _error(422, "invalid_request", "; ".join(problems) or "invalid request")


@app.exception_handler(UnicodeDecodeError)
def undecodable_body(_: UnicodeDecodeError) -> Response[Any]:
    # API Gateway base64-encodes a body that is not text; Powertools decodes it as UTF-8.
    return _error(400, "invalid_request", "the body is not UTF-8 JSON")


@app.exception_handler(RecursionError)
def nested_too_deeply(_: RecursionError) -> Response[Any]:
    # A body of brackets nested past the JSON parser's stack (a few KB suffice).
    return _error(400, "invalid_request", "the body nests too deeply")


@app.exception_handler(ValidationError)
def invalid_model(error: ValidationError) -> Response[Any]:
    return _error(422, "invalid_request", describe(error))


@app.not_found
def no_route(_: Exception) -> Response[Any]:
    event = app.current_event
    return _error(404, NotFound.code, f"no route for {event.http_method} {event.path}")


# Measured worth its cost here alone (docs/decisions.md). No response in the trace: replies
# carry what users wrote, and an app's creation its bot token.
traced = tracer()


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
@traced.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    configured()
    return app.resolve(event, context)
