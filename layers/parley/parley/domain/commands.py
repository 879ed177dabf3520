"""Slash commands: `/name args` sent as a message by a channel member goes to the app of
the workspace that registered `/name`, not to the channel; the app's answer is shown to the
invoker alone or posted in the channel as the app's bot. A response_url lets the app answer
again later (5 times within 30 minutes, as Slack allows).

The app is called in the request path, with a 3-second deadline, as Slack does: the invoker
waits for the answer and learns it in the reply (docs/decisions.md). An app that fails or
does not answer in time costs the invoker nothing but a notice: nothing was posted, and the
notice repeats the command so it can be sent again.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from parley.apps import commands as wire
from parley.apps.credentials import token_hash
from parley.apps.delivery import HttpPoster
from parley.domain import access, messages, ratelimits
from parley.domain.caller import Caller
from parley.domain.publisher import Publisher
from parley.errors import (
    Conflict,
    EmptyText,
    InvalidRequest,
    NotFound,
    ParleyError,
    TextTooLong,
    ThreadNotFound,
)
from parley.limits import MAX_TEXT_CHARS
from parley.objects import Message
from parley.observability import MetricUnit, logger, metrics
from parley.schemas import (
    CommandResponse,
    CommandResponseReply,
    CommandResult,
    PostMessage,
)
from parley.store import apps as app_store
from parley.store import commands as command_store
from parley.store import messages as message_store
from parley.store.items import AppItem, ChannelItem, CommandResponseItem

RESPONSE_TOKEN_PREFIX = "pxr-"  # noqa: S105  # a prefix, not a secret
RESPONSE_URL_USES = 5
RESPONSE_URL_SECONDS = 30 * 60

parse = wire.parse


@dataclass(frozen=True)
class Outbound:
    """What calling an app needs: the HTTP client (SSRF-guarded) and where response_urls
    live (the HTTP API's base URL)."""

    poster: HttpPoster
    api_url: str


@dataclass(frozen=True)
class _Where:
    """Where a command's answers go: its channel (and thread), to its invoker, from its app."""

    workspace_id: str
    channel_id: str
    thread_ts: str | None
    user_id: str
    app_id: str
    bot_user_id: str

    def ephemeral(self, publisher: Publisher, text: str, exclude: str | None = None) -> None:
        """To the invoker's live connections alone (but `exclude`); never stored."""
        event: dict[str, Any] = {
            "type": "ephemeral_message",
            "channelId": self.channel_id,
            "appId": self.app_id,
            "text": text,
        }
        if self.thread_ts:
            event["threadTs"] = self.thread_ts
        publisher.to_users(self.workspace_id, [self.user_id], event, exclude=exclude)

    def in_channel(self, publisher: Publisher, text: str) -> Message:
        """Posted as the app's bot, which need not be in the channel (the invoker must)."""
        bot = Caller(user_id=self.bot_user_id, app_id=self.app_id, workspace_id=self.workspace_id)
        message, _ = messages.post_message(
            bot,
            self.channel_id,
            PostMessage(text=text, threadTs=self.thread_ts),
            publisher,
            workspace_id=self.workspace_id,
            via=self.user_id,
        )
        return message


def _app_with(workspace_id: str, command: str) -> AppItem:
    found = [app for app in app_store.list_apps(workspace_id) if command in (app.commands or [])]
    if not found:
        raise InvalidRequest(
            f"{command} is not a valid command; to send text that starts with /, "
            "begin it with a space"
        )
    return min(found, key=lambda app: app.appId)  # registration keeps names unique


def invoke(
    caller: Caller,
    channel_id: str,
    invocation: wire.Invocation,
    body: messages.Draft,
    *,
    publisher: Publisher,
    outbound: Outbound,
    workspace_id: str | None = None,
) -> CommandResult:
    """Runs the command for a member of the channel; counts toward their send limit."""
    if body.fileIds:
        raise InvalidRequest("a slash command cannot share files: send them as a message")
    if len(body.text) > MAX_TEXT_CHARS:
        raise TextTooLong(f"text is {len(body.text)} characters; the limit is {MAX_TEXT_CHARS}")
    channel, _ = access.channel_audience(channel_id, caller.user_id, workspace_id)
    run = None
    if body.clientMsgId is not None:  # a retry gets the first run's result, the app no call
        run = command_store.run_key(channel_id, caller.user_id, body.clientMsgId)
        earlier = command_store.claim_run(run, int(time.time()))
        if earlier is not None:
            if earlier.result is None:
                raise Conflict(
                    "the command sent with this clientMsgId is still waiting for its app; "
                    "its result comes in that send's reply"
                )
            return CommandResult.model_validate_json(earlier.result)
    try:
        result = _run(caller, channel, invocation, body, publisher=publisher, outbound=outbound)
    except BaseException:
        if run is not None:
            command_store.release_run(run)
        raise
    if run is not None:
        command_store.finish_run(run, result.model_dump_json())
    return result


def _run(
    caller: Caller,
    channel: ChannelItem,
    invocation: wire.Invocation,
    body: messages.Draft,
    *,
    publisher: Publisher,
    outbound: Outbound,
) -> CommandResult:
    channel_id = channel.channelId
    ratelimits.check_send(caller, channel_id, time.time())
    if body.threadTs is not None:
        parent = message_store.get_message(channel_id, body.threadTs)
        if parent is None or parent.threadTs is not None:
            raise ThreadNotFound("thread not found")
    app = _app_with(channel.workspaceId, invocation.command)
    metrics.add_metric("CommandInvoked", MetricUnit.Count, 1)
    where = _Where(
        channel.workspaceId, channel_id, body.threadTs, caller.user_id, app.appId, app.botUserId
    )
    if app.commandUrl:
        token = _new_response_url(where, invocation.command)
        fields = {
            "command": invocation.command,
            "text": invocation.text,
            "team_id": channel.workspaceId,
            "channel_id": channel_id,
            "channel_name": channel.name,
            "user_id": caller.user_id,
            "user_name": caller.username or caller.name or "",
            "api_app_id": app.appId,
            "response_url": f"{outbound.api_url.rstrip('/')}/commands/{token}",
            "trigger_id": f"{int(time.time())}.{secrets.token_hex(8)}",
        }
        if body.threadTs:
            fields["thread_ts"] = body.threadTs
        request_body, headers = wire.request(app.signingSecret, fields)
        reply = outbound.poster.post(
            app.commandUrl, request_body, headers, wire.ACK_TIMEOUT_SECONDS
        )
        answer = wire.read_answer(reply)
    else:
        answer = wire.Answer("error", error="app_error", detail="the app has no command URL")
    result = CommandResult(
        command=invocation.command,
        text=invocation.text,
        appId=app.appId,
        ok=True,
        responseType="none",
    )
    return _show(answer, result, where, publisher, caller.connection_id)


def _new_response_url(where: _Where, command: str) -> str:
    """A fresh response_url token; the table keeps its hash and where it answers."""
    token = RESPONSE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    command_store.create_response(
        CommandResponseItem(
            *command_store.response_key(token_hash(token)),
            appId=where.app_id,
            workspaceId=where.workspace_id,
            channelId=where.channel_id,
            threadTs=where.thread_ts,
            userId=where.user_id,
            botUserId=where.bot_user_id,
            command=command,
            expires=int(time.time()) + RESPONSE_URL_SECONDS,
        )
    )
    return token


def _show(
    answer: wire.Answer,
    result: CommandResult,
    where: _Where,
    publisher: Publisher,
    connection_id: str | None,
) -> CommandResult:
    """The answer shown as it asks; the sending connection has it in its reply already."""
    if answer.kind == "in_channel":
        try:
            message = where.in_channel(publisher, answer.text)
        except ParleyError as error:  # the app's text was refused (too long, rate limited)
            answer = wire.Answer("error", error="app_error", detail=error.message)
        else:
            update = {"responseType": "in_channel", "replyText": answer.text, "message": message}
            return _with(result, update)
    if answer.kind == "error":
        metrics.add_metric("CommandFailed", MetricUnit.Count, 1)
        logger.warning(
            "slash command failed",
            extra={"appId": where.app_id, "command": result.command, "error": answer.error},
        )
        notice = (
            f"{result.command} failed: {answer.detail}. Nothing was posted; "
            f"your command was: {result.command} {result.text}"
        ).rstrip()
        where.ephemeral(publisher, notice, exclude=connection_id)
        update = {"ok": False, "responseType": "ephemeral", "replyText": notice}
        return _with(result, {**update, "error": answer.error})
    if answer.kind == "ephemeral":
        where.ephemeral(publisher, answer.text, exclude=connection_id)
        return _with(result, {"responseType": "ephemeral", "replyText": answer.text})
    return result


def _with(result: CommandResult, update: dict[str, Any]) -> CommandResult:
    # Validated again (model_copy would not): `message` arrives as parley.objects.Message.
    return CommandResult.model_validate({**dict(result), **update})


def respond(token: str, body: CommandResponse, publisher: Publisher) -> CommandResponseReply:
    """An app's later answer through a response_url: 404 once it is unknown, expired or
    used up; then shown as a synchronous answer is (ephemeral unless `in_channel`)."""
    if not body.text.strip():
        raise EmptyText("text must not be empty")
    if len(body.text) > MAX_TEXT_CHARS:
        raise TextTooLong(f"text is {len(body.text)} characters; the limit is {MAX_TEXT_CHARS}")
    found = (
        command_store.use_response(token_hash(token), int(time.time()), RESPONSE_URL_USES)
        if token.startswith(RESPONSE_TOKEN_PREFIX)
        else None
    )
    if found is None or app_store.get_app(found.appId) is None:
        raise NotFound(
            f"no such response_url: unknown, expired ({RESPONSE_URL_SECONDS // 60} minutes) "
            f"or used {RESPONSE_URL_USES} times"
        )
    metrics.add_metric("CommandResponse", MetricUnit.Count, 1)
    where = _Where(
        found.workspaceId,
        found.channelId,
        found.threadTs,
        found.userId,
        found.appId,
        found.botUserId,
    )
    if body.response_type == "in_channel":
        return CommandResponseReply(
            responseType="in_channel", message=where.in_channel(publisher, body.text)
        )
    access.channel_member(found.channelId, found.userId, found.workspaceId)
    where.ephemeral(publisher, body.text)
    return CommandResponseReply(responseType="ephemeral")
