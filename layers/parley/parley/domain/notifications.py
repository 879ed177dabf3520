"""Notifications: who a new message is meant for, telling them once, and listing them.

A mention (<@user> of a channel member, <!channel>: every member, <!here>: those active when
it was sent) or any message in a DM or group DM notifies each recipient but the author.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from parley.domain.caller import Caller
from parley.domain.publisher import Publisher
from parley.ids import iso_now
from parley.observability import MetricUnit, logger, metrics
from parley.schemas import Notification
from parley.store import channels as channel_store
from parley.store import notifications as notification_store
from parley.store.items import MessageItem, NotificationItem

TTL_SECONDS = 30 * 24 * 3600
_DIRECT = ("dm", "group_dm")


class Push(Protocol):
    """Where notifications go for recipients with no live connection (SNS in Lambda)."""

    def publish(self, recipient: str, workspace_id: str, notification: Notification) -> None: ...


@dataclass(frozen=True)
class Recipients:
    kind: str  # "mention" or "dm"
    user_ids: frozenset[str]


def recipients(
    message: MessageItem, channel_type: str, member_ids: set[str], here_only: bool = False
) -> Recipients:
    """Members the message notifies, never its author. `here_only`: the hereUsers alone
    (recorded after the message went out, so they arrive in a later change of the item)."""
    here = set(message.hereUsers or ()) if message.broadcast == "here" else set()
    if here_only:
        chosen = here
    elif channel_type in _DIRECT:
        return Recipients("dm", frozenset(member_ids - {message.userId}))
    elif message.broadcast == "channel":
        chosen = set(member_ids)
    else:
        chosen = set(message.mentions or ()) | here
    return Recipients("mention", frozenset((chosen & member_ids) - {message.userId}))


def notify(
    message: MessageItem,
    publisher: Publisher,
    push: Push | None,
    now: float,
    here_only: bool = False,
) -> int:
    """Creates the message's notifications and announces the new ones; how many were new.

    Idempotent: a notification that already exists (a redelivered record) is neither
    written nor announced again. Recipients with no live connection go to `push`.
    """
    channel = channel_store.get_channel(message.channelId)
    if channel is None:  # deleted since: nobody to tell
        return 0
    members = set(channel_store.member_ids(channel.channelId))
    chosen = recipients(message, channel.type, members, here_only)
    created_at = iso_now()
    fresh: list[str] = []
    item: NotificationItem | None = None
    for user_id in sorted(chosen.user_ids):
        item = notification_store.new_notification(
            user_id,
            kind=chosen.kind,
            workspace_id=message.workspaceId,
            channel_id=message.channelId,
            ts=message.ts,
            author_id=message.userId,
            created_at=created_at,
            expires_at=int(now) + TTL_SECONDS,
        )
        if notification_store.create(item):
            fresh.append(user_id)
    if not fresh or item is None:
        return 0
    # Every recipient's notification reads the same, so one event serves them all.
    notification = notification_view(item)
    event = {"type": "notification", "notification": notification.model_dump()}
    delivery = publisher.to_users(message.workspaceId, fresh, event)
    reached: set[str] = getattr(delivery, "reached", set())
    offline = [user_id for user_id in fresh if user_id not in reached]
    if push is not None:
        for user_id in offline:
            push.publish(user_id, message.workspaceId, notification)
    metrics.add_metric("NotificationsCreated", MetricUnit.Count, len(fresh))
    logger.info(
        "notified",
        extra={
            "channelId": message.channelId,
            "ts": message.ts,
            "count": len(fresh),
            "offline": len(offline),
        },
    )
    return len(fresh)


def notification_view(item: NotificationItem) -> Notification:
    return Notification(
        id=f"{item.channelId}-{item.ts}",
        type="dm" if item.type == "dm" else "mention",
        channelId=item.channelId,
        ts=item.ts,
        userId=item.userId,
        createdAt=item.createdAt,
    )


def list_notifications(
    caller: Caller, limit: int, cursor: str | None
) -> tuple[list[Notification], str | None]:
    items, next_cursor = notification_store.newest_first(caller.user_id, limit, cursor)
    return [notification_view(item) for item in items], next_cursor
