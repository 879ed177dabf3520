"""Slash commands: `/name args` sent as a message by a channel member goes to the app of
the workspace that registered `/name`, not to the channel; the app's answer is shown to the
invoker alone or posted in the channel as the app's bot. A response_url lets the app answer
again later (5 times within 30 minutes, as Slack allows), and replace or delete the
command's last answer.

The app is called in the request path, with a 3-second deadline, as Slack does: the invoker
waits for the answer and learns it in the reply (docs/decisions.md). An app that fails or
does not answer in time costs the invoker nothing but a notice: nothing was posted, and the
notice repeats the command so it can be sent again.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

from parley.apps import commands as wire
from parley.apps.credentials import token_hash
from parley.apps.delivery import HttpPoster
from parley.domain import access, messages, ratelimits
from parley.domain.caller import Caller
from parley.domain.ephemeral import ephemeral_event
from parley.domain.objects import Message
from parley.domain.ports import Publisher
from parley.domain.ports.apps import store as app_store
from parley.domain.ports.commands import store as command_store
from parley.domain.ports.messages import store as message_store
from parley.domain.ports.workspaces import store as workspace_store
from parley.domain.records import AppRecord, ChannelRecord, CommandResponseRecord
from parley.edge.schemas import CommandResponse, CommandResult
from parley.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    ParleyError,
    TextTooLong,
    ThreadNotFound,
)
from parley.ids import now_micros, ts_from_micros
from parley.limits import MAX_TEXT_CHARS
from parley.observability import MetricUnit, logger, metrics

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


class ResponseUrlGone(NotFound):
    """The response_url is unknown, expired, or `used_up` (its app may be deleted too)."""

    def __init__(self, message: str, *, used_up: bool) -> None:
        super().__init__(message)
        self.used_up = used_up


ShownAs = Literal["ephemeral", "in_channel"]


@dataclass(frozen=True)
class _Shown:
    """What an answer became: where it is shown and under which ts (none: nothing shown)."""

    kind: ShownAs | Literal["none", "deleted"]
    ts: str | None = None
    message: Message | None = None  # the message posted or edited in the channel


@dataclass(frozen=True)
class _Where:
    """Where a command's answers go: its channel (and thread), to its invoker, from its app;
    and the command's last answer, which a later one may replace or delete."""

    workspace_id: str
    channel_id: str
    thread_ts: str | None
    user_id: str
    app_id: str
    bot_user_id: str
    shown_ts: str | None = None
    shown_as: ShownAs | None = None

    @property
    def bot(self) -> Caller:
        return Caller(user_id=self.bot_user_id, app_id=self.app_id, workspace_id=self.workspace_id)

    def ephemeral(
        self, publisher: Publisher, answer: CommandResponse, ts: str, exclude: str | None
    ) -> _Shown:
        """To the invoker's live connections alone (but `exclude`); never stored. An event
        with the ts of one shown before replaces it."""
        event = ephemeral_event(
            self.channel_id,
            answer.fallback_text(),
            ts=ts,
            app_id=self.app_id,
            thread_ts=answer.thread_ts or self.thread_ts,
            blocks=answer.blocks,
        )
        publisher.to_users(self.workspace_id, [self.user_id], event, exclude=exclude)
        return _Shown("ephemeral", ts)

    def in_channel(self, publisher: Publisher, answer: CommandResponse) -> _Shown:
        """Posted as the app's bot, which need not be in the channel (the invoker must)."""
        message, _ = messages.post_message(
            self.bot,
            self.channel_id,
            answer.draft(self.thread_ts),
            publisher,
            workspace_id=self.workspace_id,
            via=self.user_id,
        )
        return _Shown("in_channel", message.ts, message)

    def show(
        self, publisher: Publisher, answer: CommandResponse, exclude: str | None = None
    ) -> _Shown:
        """The answer shown as it asks (`exclude`: the connection that has it in its reply).
        Replacing the last answer keeps it where it was, ephemeral or in the channel."""
        if wire.shows_nothing(answer):
            return _Shown("none")
        if answer.delete_original:
            return self._delete_last(publisher)
        if answer.replace_original and self.shown_ts and self.shown_as == "in_channel":
            message = messages.edit_message(
                self.bot,
                self.channel_id,
                self.shown_ts,
                answer.fallback_text(),
                publisher,
                blocks=answer.blocks or [],
            )
            return _Shown("in_channel", message.ts, message)
        if answer.replace_original and self.shown_ts:
            return self.ephemeral(publisher, answer, self.shown_ts, exclude)
        if answer.response_type == "in_channel":
            return self.in_channel(publisher, answer)
        return self.ephemeral(publisher, answer, ts_from_micros(now_micros()), exclude)

    def _delete_last(self, publisher: Publisher) -> _Shown:
        if self.shown_ts and self.shown_as == "in_channel":
            messages.delete_message(self.bot, self.channel_id, self.shown_ts, publisher)
        elif self.shown_ts:
            event = {"type": "ephemeral_deleted", "channelId": self.channel_id, "ts": self.shown_ts}
            publisher.to_users(self.workspace_id, [self.user_id], event)
        return _Shown("deleted")


def _app_with(workspace_id: str, command: str) -> AppRecord:
    found = [app for app in app_store.list_apps(workspace_id) if command in app.commands]
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
    access.not_archived(channel)
    run = None
    if body.clientMsgId is not None:  # a retry gets the first run's result, the app no call
        run = (channel_id, caller.user_id, body.clientMsgId)
        earlier = command_store.claim_run(*run, int(time.time()))
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
            command_store.release_run(*run)
        raise
    if run is not None:
        command_store.finish_run(*run, result.model_dump_json())
    return result


def _run(
    caller: Caller,
    channel: ChannelRecord,
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
    result = CommandResult(
        command=invocation.command,
        text=invocation.text,
        appId=app.appId,
        ok=True,
        responseType="none",
    )
    if not app.commandUrl:
        failure = wire.Failure("app_error", "the app has no command URL")
        return _failed(failure, result, where, publisher, caller.connection_id)
    token = _new_response_url(where, invocation.command)
    workspace = workspace_store.get_workspace(channel.workspaceId)
    form = wire.form(
        invocation,
        secret=app.signingSecret,
        app_id=app.appId,
        team_id=channel.workspaceId,
        team_name=workspace.name if workspace else "",
        channel_id=channel_id,
        channel_name=channel.name if channel.type != "dm" else "directmessage",
        user_id=caller.user_id,
        user_name=caller.username or caller.name or "",
        response_url=f"{outbound.api_url.rstrip('/')}/commands/{token}",
        thread_ts=body.threadTs,
    )
    request_body, headers = wire.request(app.signingSecret, form)
    reply = outbound.poster.post(app.commandUrl, request_body, headers, wire.ACK_TIMEOUT_SECONDS)
    answer = wire.read_answer(reply)
    if isinstance(answer, wire.Failure):
        return _failed(answer, result, where, publisher, caller.connection_id)
    try:
        shown = where.show(publisher, answer, exclude=caller.connection_id)
    except ParleyError as error:  # the app's answer was refused (too long, rate limited)
        failure = wire.Failure("app_error", error.message)
        return _failed(failure, result, where, publisher, caller.connection_id)
    _remember(token_hash(token), where, shown)
    if shown.kind == "in_channel":
        update = {"responseType": "in_channel", "replyText": answer.fallback_text()}
        return _with(result, {**update, "message": shown.message})
    if shown.kind == "ephemeral":
        update = {"responseType": "ephemeral", "replyText": answer.fallback_text()}
        return _with(result, {**update, "replyBlocks": answer.blocks})
    return result


def _new_response_url(where: _Where, command: str) -> str:
    """A fresh response_url token; the table keeps its hash and where it answers."""
    token = RESPONSE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    command_store.create_response(
        CommandResponseRecord(
            tokenHash=token_hash(token),
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


def _failed(
    failure: wire.Failure,
    result: CommandResult,
    where: _Where,
    publisher: Publisher,
    connection_id: str | None,
) -> CommandResult:
    """The invoker's notice that nothing was posted, with the command to send again."""
    metrics.add_metric("CommandFailed", MetricUnit.Count, 1)
    logger.warning(
        "slash command failed",
        extra={"appId": where.app_id, "command": result.command, "error": failure.error},
    )
    notice = (
        f"{result.command} failed: {failure.detail}. Nothing was posted; "
        f"your command was: {result.command} {result.text}"
    ).rstrip()
    where.ephemeral(
        publisher, CommandResponse(text=notice), ts_from_micros(now_micros()), connection_id
    )
    update = {"ok": False, "responseType": "ephemeral", "replyText": notice}
    return _with(result, {**update, "error": failure.error})


def _with(result: CommandResult, update: dict[str, Any]) -> CommandResult:
    # Validated again (model_copy would not): `message` arrives as parley.domain.objects.Message.
    return CommandResult.model_validate({**dict(result), **update})


def respond(token: str, answer: CommandResponse, publisher: Publisher) -> Message | None:
    """An app's later answer through a response_url, shown as a synchronous answer is
    (ephemeral unless `in_channel`), or replacing or deleting the command's last answer.
    Returns the message it posted or edited in the channel, if any.

    A use is spent only on an answer that could be shown; an unknown, expired or used-up
    response_url (or one whose app was deleted) is ResponseUrlGone."""
    if not answer.delete_original:
        messages.check_text(answer.fallback_text(), empty_ok=bool(answer.blocks))
    hashed = token_hash(token)
    now = int(time.time())
    found = None
    if token.startswith(RESPONSE_TOKEN_PREFIX):
        found = command_store.use_response(hashed, now, RESPONSE_URL_USES)
    if found is None:
        spent = command_store.get_response(hashed)
        if spent is not None and spent.expires > now:
            raise ResponseUrlGone(f"used {RESPONSE_URL_USES} times already", used_up=True)
        raise ResponseUrlGone(
            f"no such response_url: unknown, or expired ({RESPONSE_URL_SECONDS // 60} "
            "minutes after its command)",
            used_up=False,
        )
    if app_store.get_app(found.appId) is None:
        raise ResponseUrlGone("the response_url's app was deleted", used_up=False)
    metrics.add_metric("CommandResponse", MetricUnit.Count, 1)
    where = _Where(
        found.workspaceId,
        found.channelId,
        found.threadTs,
        found.userId,
        found.appId,
        found.botUserId,
        shown_ts=found.shownTs,
        shown_as=found.shownAs,  # type: ignore[arg-type]  # written from ShownAs only
    )
    access.channel_member(found.channelId, found.userId, found.workspaceId)
    shown = where.show(publisher, answer)
    _remember(hashed, where, shown)
    return shown.message


def _remember(hashed: str, where: _Where, shown: _Shown) -> None:
    """The command's last answer, for a later one to replace or delete (one UpdateItem,
    only when it changed)."""
    if shown.kind == "deleted":
        command_store.record_shown(hashed, None)
    elif shown.kind != "none" and shown.ts and shown.ts != where.shown_ts:
        command_store.record_shown(hashed, (shown.ts, shown.kind))
