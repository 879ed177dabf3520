"""Read state: what a member has not read yet, counted from the marker onward only."""

from __future__ import annotations

from parley.adapters.dynamodb.base import conditional
from parley.adapters.dynamodb.items import FollowItem, MessageItem
from parley.adapters.dynamodb.records import to_record
from parley.domain.ports.reads import MAX_COUNTED, Unread
from parley.domain.records import FollowRecord

_HIGHEST = "MSG#9999999999.999999"


def unread_in_channel(channel_id: str, user_id: str, last_read_ts: str) -> Unread:
    """Top-level messages after the marker by others, and how many of them mention the user.

    Reads only the items after the marker (projected to five small attributes), never the
    channel's history before it.
    """
    query = MessageItem.query(
        f"CH#{channel_id}",
        MessageItem.SK.between(f"MSG#{last_read_ts}~", _HIGHEST),
        filter_condition=MessageItem.threadTs.does_not_exist() & (MessageItem.userId != user_id),
        attributes_to_get=["userId", "mentions", "broadcast", "hereUsers", "threadTs"],
        page_size=200,
    )
    messages = mentions = 0
    for item in query:
        messages += 1
        if (
            user_id in (item.mentions or ())
            or item.broadcast == "channel"
            or user_id in (item.hereUsers or ())
        ):
            mentions += 1
        if messages >= MAX_COUNTED:
            break
    return Unread(messages, mentions)


def follow_key(user_id: str, channel_id: str, thread_ts: str) -> tuple[str, str]:
    return f"USER#{user_id}", f"FOLLOW#{channel_id}#{thread_ts}"


def follow(user_id: str, workspace_id: str, channel_id: str, thread_ts: str, read_ts: str) -> None:
    """Follows the thread (read up to `read_ts`) unless already following."""
    item = FollowItem(
        *follow_key(user_id, channel_id, thread_ts),
        channelId=channel_id,
        workspaceId=workspace_id,
        threadTs=thread_ts,
        lastReadTs=read_ts,
    )
    conditional(lambda: item.save(condition=FollowItem.PK.does_not_exist()))


def followed_threads(user_id: str, workspace_id: str) -> list[FollowRecord]:
    """The user's followed threads in the workspace (one Query over their FOLLOW# items)."""
    query = FollowItem.query(
        f"USER#{user_id}",
        FollowItem.SK.startswith("FOLLOW#"),
        filter_condition=FollowItem.workspaceId == workspace_id,
    )
    return [to_record(item, FollowRecord, userId=user_id) for item in query]


def set_thread_marker(user_id: str, channel_id: str, thread_ts: str, ts: str) -> bool:
    """Moves the read marker of a followed thread; False if the user does not follow it."""
    return conditional(
        lambda: FollowItem(*follow_key(user_id, channel_id, thread_ts)).update(
            actions=[FollowItem.lastReadTs.set(ts)], condition=FollowItem.PK.exists()
        )
    )


def unread_replies(channel_id: str, thread_ts: str, user_id: str, last_read_ts: str) -> int:
    query = MessageItem.gsi1.query(
        f"THREAD#{channel_id}#{thread_ts}",
        MessageItem.GSI1SK > last_read_ts,  # noqa: SIM300 - a pynamodb condition
        filter_condition=MessageItem.userId != user_id,
        attributes_to_get=["userId"],
        page_size=200,
    )
    count = 0
    for _ in query:
        count += 1
        if count >= MAX_COUNTED:
            break
    return count
