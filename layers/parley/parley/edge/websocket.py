"""WebSocket framing: the caller from the authorizer's context, replies, and error frames."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from parley.domain.caller import Caller
from parley.edge.frames import Frame
from parley.errors import InvalidRequest, ParleyError, Unauthorized
from parley.observability import log_connection

F = TypeVar("F", bound=Frame)


def caller(event: dict[str, Any]) -> tuple[Caller, str]:
    """The user and workspace that the $connect authorizer approved for this connection."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    user_id, workspace_id = authorizer.get("userId"), authorizer.get("workspaceId")
    if not user_id or not workspace_id:
        raise Unauthorized("connection has no authorized user")
    return Caller(user_id=user_id, connection_id=context.get("connectionId")), workspace_id


def load_frame(event: dict[str, Any]) -> Any:
    """The frame's JSON value, or InvalidRequest saying why there is none."""
    if event.get("isBase64Encoded"):
        raise InvalidRequest("binary frames are not accepted: send JSON text")
    try:
        return json.loads(event.get("body") or "")
    except (ValueError, TypeError):
        raise InvalidRequest("frame is not valid JSON") from None
    except RecursionError:  # 32 KB of brackets nest far past the parser's stack
        raise InvalidRequest("frame nests too deeply") from None


def reply_to(event: dict[str, Any]) -> str | int | None:
    """The client's frame id, if the body is a JSON object that has one."""
    try:
        body = load_frame(event)
    except InvalidRequest:
        return None
    value = body.get("id") if isinstance(body, dict) else None
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def parse(event: dict[str, Any], kind: type[F]) -> F:
    """The frame as `kind` (parley.edge.frames), or InvalidRequest naming what is wrong."""
    body = load_frame(event)
    if not isinstance(body, dict):
        raise InvalidRequest("frame must be a JSON object")
    return kind.read(body)


def send(frame: dict[str, Any]) -> dict[str, Any]:
    """The route response: API Gateway sends `body` back on the same connection."""
    return {"statusCode": 200, "body": json.dumps(frame, separators=(",", ":"))}


def error(error: ParleyError, reply: str | int | None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "error": error.to_dict()["error"]}
    if reply is not None:
        frame["replyTo"] = reply
    return send(frame)


def handle(
    event: dict[str, Any], kind: type[F], act: Callable[[Caller, str, F], dict[str, Any]]
) -> dict[str, Any]:
    """One WebSocket action: the frame parsed as `kind`, `act(caller, workspace_id, frame)`
    run, its reply frame sent back; a ParleyError becomes an error frame (connection open)."""
    log_connection(event)
    reply = reply_to(event)
    try:
        who, workspace_id = caller(event)
        frame = parse(event, kind)
        result = act(who, workspace_id, frame)
    except ParleyError as failure:
        return error(failure, reply)
    return send({"replyTo": reply, **result})
