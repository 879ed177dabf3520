"""Read state: read markers per channel and per followed thread, and unread counts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.ports import Publisher
from parley.domain.ports.channels import store as channel_store
from parley.domain.ports.messages import store as message_store
from parley.domain.ports.reads import store as read_store
from parley.errors import ChannelNotFound, ThreadNotFound

if TYPE_CHECKING:
    from parley.edge.schemas import Unreads

_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="unreads")


def mark_channel(
    caller: Caller,
    channel_id: str,
    ts: str,
    publisher: Publisher,
    workspace_id: str | None = None,
) -> None:
    """Moves the caller's marker; the caller's other connections learn it (channel_marked)."""
    channel, _ = access.channel_member(channel_id, caller.user_id, workspace_id)
    if not channel_store.set_read_marker(channel_id, caller.user_id, ts):
        raise ChannelNotFound("channel not found")  # left between the check and the write
    publisher.to_users(
        channel.workspaceId,
        [caller.user_id],
        {"type": "channel_marked", "channelId": channel_id, "ts": ts},
        exclude=caller.connection_id,
    )


def mark_thread(
    caller: Caller, channel_id: str, thread_ts: str, ts: str, publisher: Publisher
) -> None:
    """Moves the marker of one thread (following it if need be); other threads stay unread."""
    channel, _ = access.visible_channel(channel_id, caller.user_id)
    parent = message_store.get_message(channel_id, thread_ts)
    if parent is None or parent.threadTs is not None:
        raise ThreadNotFound("thread not found")
    if not read_store.set_thread_marker(caller.user_id, channel_id, thread_ts, ts):
        read_store.follow(caller.user_id, channel.workspaceId, channel_id, thread_ts, ts)
    publisher.to_users(
        channel.workspaceId,
        [caller.user_id],
        {"type": "thread_marked", "channelId": channel_id, "threadTs": thread_ts, "ts": ts},
        exclude=caller.connection_id,
    )


def unreads(caller: Caller, workspace_id: str) -> Unreads:
    """Every channel the caller is in with its counts, and followed threads with new replies.

    Each channel costs one Query over the messages after its marker; a thread is queried
    only when its parent's latestReplyTs is past the caller's marker.
    """
    # Imported here: the markRead function shares this module and keeps pydantic out of its
    # cold start (docs/decisions.md); the HTTP API has loaded the schemas already.
    from parley.edge.schemas import ChannelUnread, ThreadUnread, Unreads

    access.workspace_member(workspace_id, caller.user_id)
    memberships = channel_store.memberships_in_workspace(caller.user_id, workspace_id)
    counted = _pool.map(
        lambda m: read_store.unread_in_channel(m.channelId, caller.user_id, m.lastReadTs or ""),
        memberships,
    )
    counts = list(zip(memberships, counted, strict=True))
    # Every DM message counts as a mention (API.md): only channels with unread messages that
    # are not all mentions are looked up (one BatchGetItem) to find the DMs among them.
    unsure = [m.channelId for m, count in counts if count.messages > count.mentions]
    direct = {
        c.channelId for c in channel_store.get_channels(unsure) if c.type in ("dm", "group_dm")
    }
    channels = [
        ChannelUnread(
            channelId=m.channelId,
            lastReadTs=m.lastReadTs,
            unreadCount=count.messages,
            mentionCount=count.messages if m.channelId in direct else count.mentions,
        )
        for m, count in counts
    ]
    mine = {m.channelId for m in memberships}
    follows = [
        f for f in read_store.followed_threads(caller.user_id, workspace_id) if f.channelId in mine
    ]
    parents = {
        (p.channelId, p.ts): p
        for channel_id in {f.channelId for f in follows}
        for p in message_store.get_messages(
            channel_id, [f.threadTs for f in follows if f.channelId == channel_id]
        )
    }
    stale = [
        f
        for f in follows
        if (parent := parents.get((f.channelId, f.threadTs))) is not None
        and (parent.latestReplyTs or "") > f.lastReadTs
    ]
    replies = _pool.map(
        lambda f: read_store.unread_replies(f.channelId, f.threadTs, caller.user_id, f.lastReadTs),
        stale,
    )
    threads = [
        ThreadUnread(channelId=f.channelId, threadTs=f.threadTs, unreadReplies=n)
        for f, n in zip(stale, replies, strict=True)
        if n > 0
    ]
    return Unreads(channels=channels, threads=threads)
