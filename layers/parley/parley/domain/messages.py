"""Messages: posting (with idempotent retries), history, one message."""

from __future__ import annotations

import time
from typing import Any, Protocol

from parley.concurrency import both
from parley.domain import access, files, mentions, ratelimits, usergroups
from parley.domain import blocks as block_kit
from parley.domain.caller import Caller
from parley.domain.objects import Message
from parley.domain.ports import Publisher
from parley.domain.ports.connections import store as connection_store
from parley.domain.ports.messages import DuplicateSend, NotYours, TsTaken
from parley.domain.ports.messages import store as message_store
from parley.domain.ports.reads import store as reads
from parley.domain.records import FileRecord, MessageRecord
from parley.domain.views import message_view, shared_file
from parley.errors import (
    EmptyText,
    MessageNotFound,
    NotAuthor,
    TextTooLong,
    ThreadNotFound,
)
from parley.ids import iso_now, next_ts, now_micros, ts_from_micros
from parley.limits import MAX_TEXT_CHARS
from parley.observability import MetricUnit, metrics

RETRY_KEY_SECONDS = 24 * 3600
_TS_ATTEMPTS = 8


class Draft(Protocol):
    """A message to post: the HTTP body (parley.edge.schemas.PostMessage) or the WebSocket frame
    (parley.edge.frames.SendMessageFrame), both validated at their edge."""

    @property
    def text(self) -> str: ...
    @property
    def threadTs(self) -> str | None: ...
    @property
    def clientMsgId(self) -> str | None: ...
    @property
    def fileIds(self) -> list[str] | None: ...
    @property
    def blocks(self) -> list[dict[str, Any]] | None: ...


def post_message(
    caller: Caller,
    channel_id: str,
    body: Draft,
    publisher: Publisher,
    workspace_id: str | None = None,
    *,
    via: str | None = None,
    subtype: str | None = None,
) -> tuple[Message, bool]:
    """Stores the message and delivers it to the channel's live connections.

    Returns the message and whether it is new: a repeated clientMsgId returns the first
    message and announces nothing. `workspace_id` confines a WebSocket connection to the
    workspace it was opened for. Shared files (`fileIds`) must be ready files of the
    channel's workspace that the sender may see; the text may then be empty, as it may with
    Block Kit `blocks` (the text is then their fallback). `via` names the member on whose
    behalf an app's bot answers a slash command: the bot need not be in the channel, the
    member must (as in Slack). `subtype` is Slack's message subtype where the post has one
    (`bot_message` for an incoming webhook).
    """
    stored_blocks = block_kit.to_store(body.blocks)
    check_text(body.text, empty_ok=bool(body.fileIds) or stored_blocks is not None)
    # The audience and the rate limit are independent look-ups, and so, below, are storing
    # the message and finding its audience's connections: each pair costs one round trip.
    (channel, member_ids), _ = both(
        lambda: access.channel_audience(channel_id, via or caller.user_id, workspace_id),
        lambda: ratelimits.check_send(caller, channel_id, time.time()),
    )
    access.not_archived(channel)
    if body.clientMsgId is not None:
        first_ts = message_store.find_send(channel_id, caller.user_id, body.clientMsgId)
        if first_ts is not None:
            return _existing(channel_id, first_ts), False
    parent = None
    if body.threadTs is not None:
        parent = message_store.get_message(channel_id, body.threadTs)
        if parent is None or parent.threadTs is not None:
            raise ThreadNotFound("thread not found")
    shared = files.files_to_share(caller, channel.workspaceId, body.fileIds or [])
    try:
        item, targets = both(
            lambda: _store_with_new_ts(
                caller,
                channel_id,
                channel.workspaceId,
                body,
                shared,
                subtype=subtype,
                stored_blocks=stored_blocks,
            ),
            lambda: connection_store.live_connections(channel.workspaceId, member_ids),
        )
    except DuplicateSend as duplicate:
        return _existing(channel_id, duplicate.ts), False
    if parent is not None:
        message_store.record_reply(channel_id, parent.ts, item.ts)
        # The parent's author and everyone who replies follow the thread.
        reads.follow(caller.user_id, channel.workspaceId, channel_id, parent.ts, item.ts)
        reads.follow(parent.userId, channel.workspaceId, channel_id, parent.ts, parent.ts)
    message = message_view(item)
    metrics.add_metric("MessageSent", MetricUnit.Count, 1)
    targets.pop(caller.connection_id or "", None)
    delivery = publisher.to_connections(
        channel.workspaceId,
        targets,
        {"type": "message", "channelId": channel_id, "message": message.wire()},
    )
    if item.broadcast == "here":
        message_store.set_here_users(channel_id, item.ts, delivery.reached - {caller.user_id})
    return message, True


def list_messages(
    caller: Caller,
    channel_id: str,
    *,
    oldest: str | None,
    latest: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Message], str | None]:
    access.history_channel(channel_id, caller)
    items, next_cursor = message_store.top_level_page(channel_id, oldest, latest, limit, cursor)
    return [message_view(item) for item in items], next_cursor


def get_message(caller: Caller, channel_id: str, ts: str) -> Message:
    access.history_channel(channel_id, caller)
    item = message_store.get_message(channel_id, ts)
    if item is None:
        raise MessageNotFound("message not found")
    return message_view(item)


def check_text(text: str, empty_ok: bool = False) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise TextTooLong(f"text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    if not text.strip() and not empty_ok:
        raise EmptyText("text must not be empty")


def _store_with_new_ts(
    caller: Caller,
    channel_id: str,
    workspace_id: str,
    body: Draft,
    shared: list[FileRecord],
    *,
    subtype: str | None,
    stored_blocks: str | None,
) -> MessageRecord:
    """Puts the message under the current time's ts, moving up a microsecond on a clash."""
    mentioned = mentions.parse(body.text)
    mentioned_users = mentioned.users | usergroups.members_of(workspace_id, mentioned.subteams)
    ts = ts_from_micros(now_micros())
    for _ in range(_TS_ATTEMPTS):
        item = MessageRecord(
            channelId=channel_id,
            workspaceId=workspace_id,
            ts=ts,
            userId=caller.user_id,
            text=body.text,
            threadTs=body.threadTs,
            clientMsgId=body.clientMsgId,
            fileIds=tuple(f.fileId for f in shared) or None,
            files=tuple(shared_file(f) for f in shared) or None,
            mentions=mentioned_users or None,
            broadcast=mentioned.broadcast,
            appId=caller.app_id,
            subtype=subtype,
            blocks=stored_blocks,
            version=1,
            createdAt=iso_now(),
        )
        try:
            message_store.put_new_message(item, int(time.time()) + RETRY_KEY_SECONDS)
        except TsTaken:
            ts = next_ts(ts)
            continue
        return item
    raise RuntimeError(f"no free ts in channel {channel_id} after {_TS_ATTEMPTS} attempts")


def _existing(channel_id: str, ts: str) -> Message:
    item = message_store.get_message(channel_id, ts, consistent=True)
    if item is None:  # the retry key outlived its message (deleted since)
        raise MessageNotFound("message not found")
    return message_view(item)


def list_replies(
    caller: Caller, channel_id: str, thread_ts: str, limit: int, cursor: str | None
) -> tuple[list[Message], str | None]:
    access.history_channel(channel_id, caller)
    parent = message_store.get_message(channel_id, thread_ts)
    if parent is None or parent.threadTs is not None:
        raise ThreadNotFound("thread not found")
    items, next_cursor = message_store.replies_page(channel_id, thread_ts, limit, cursor)
    return [message_view(item) for item in items], next_cursor


def edit_message(
    caller: Caller,
    channel_id: str,
    ts: str,
    text: str,
    publisher: Publisher,
    *,
    blocks: list[dict[str, Any]] | None = None,
) -> Message:
    """The author only; every edit bumps `version` and is announced as message_changed.
    `blocks` replace the message's blocks and `[]` removes them; None leaves them as they
    are (as Slack's chat.update without `blocks`). The text of a message that shares files
    or keeps blocks may be emptied, as it may be sent empty."""
    channel, _ = access.visible_channel(channel_id, caller.user_id)
    existing = message_store.get_message(channel_id, ts)
    if existing is None:
        raise MessageNotFound("message not found")
    if existing.userId != caller.user_id:
        raise NotAuthor("only the author can edit a message")
    access.not_archived(channel)
    new_blocks = None if blocks is None else block_kit.to_store(blocks)
    kept_blocks = existing.blocks if blocks is None else new_blocks
    check_text(text, empty_ok=bool(existing.fileIds) or kept_blocks is not None)
    try:
        mentioned = mentions.parse(text)
        item = message_store.edit_text(
            channel_id,
            ts,
            author_id=caller.user_id,
            text=text,
            edited_ts=ts_from_micros(now_micros()),
            mentions=mentioned.users
            | usergroups.members_of(channel.workspaceId, mentioned.subteams),
            broadcast=mentioned.broadcast,
            blocks=new_blocks,
            replace_blocks=blocks is not None,
        )
    except NotYours:
        raise MessageNotFound("message not found") from None
    message = message_view(item)
    publisher.to_channel(
        channel.workspaceId,
        channel_id,
        {"type": "message_changed", "channelId": channel_id, "message": message.wire()},
    )
    return message


def delete_message(caller: Caller, channel_id: str, ts: str, publisher: Publisher) -> None:
    """The author or a workspace admin; announced as message_deleted."""
    channel, _ = access.visible_channel(channel_id, caller.user_id)
    existing = message_store.get_message(channel_id, ts)
    if existing is None:
        raise MessageNotFound("message not found")
    if existing.userId != caller.user_id and not access.is_admin(
        channel.workspaceId, caller.user_id
    ):
        raise NotAuthor("only the author or a workspace admin can delete a message")
    if message_store.delete_message(existing):
        publisher.to_channel(
            channel.workspaceId,
            channel_id,
            {"type": "message_deleted", "channelId": channel_id, "ts": ts},
        )
