"""Notifications: who a new message is meant for, telling them once, and listing them.

A mention (<@user> of a channel member, <!channel>: every member, <!here>: those active when
it was sent) or any message in a DM or group DM notifies each recipient but the author.
Recipients with no live connection are pushed to (SNS) as their notification level and do
not disturb allow (parley.domain.preferences), which also push a message that mentions no
one to the members whose level for the channel is "all".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from parley.domain import preferences
from parley.domain.caller import Caller
from parley.domain.ports import Publisher
from parley.domain.ports.channels import store as channel_store
from parley.domain.ports.connections import store as connection_store
from parley.domain.ports.notifications import store as notification_store
from parley.domain.ports.preferences import store as preference_store
from parley.domain.records import ChannelRecord, MessageRecord, NotificationRecord
from parley.edge.schemas import Notification, PushedMessage
from parley.ids import iso_now
from parley.observability import MetricUnit, logger, metrics

TTL_SECONDS = 30 * 24 * 3600
_DIRECT = ("dm", "group_dm")


class Push(Protocol):
    """Where notifications go for recipients with no live connection (SNS in Lambda)."""

    def publish(
        self, recipient: str, workspace_id: str, notification: Notification | PushedMessage
    ) -> None: ...


@dataclass(frozen=True)
class Recipients:
    kind: str  # "mention" or "dm"
    user_ids: frozenset[str]


def recipients(
    message: MessageRecord, channel_type: str, member_ids: set[str], here_only: bool = False
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


def may_notify(message: MessageRecord, channel_type: str, here_only: bool = False) -> bool:
    """Whether `recipients` can name anyone, told before the members are read: a DM, a
    mention, <!channel>, or <!here> with someone active. Most messages are none of these,
    and their notifying ends here, one member read fewer per message."""
    here = bool(message.hereUsers) and message.broadcast == "here"
    if here_only:
        return here
    return (
        channel_type in _DIRECT or message.broadcast == "channel" or bool(message.mentions) or here
    )


def channels_of(messages: list[MessageRecord]) -> dict[str, ChannelRecord]:
    """The messages' channels by id, in one BatchGetItem per 100 channels rather than a
    GetItem per message: a stream batch of 100 messages names a few dozen channels."""
    wanted = sorted({message.channelId for message in messages})
    return {channel.channelId: channel for channel in channel_store.get_channels(wanted)}


class PushFailed(Exception):
    """Some notifications could not be pushed; the stream record is to be retried."""


def notify(
    message: MessageRecord,
    publisher: Publisher,
    push: Push | None,
    now: float,
    here_only: bool = False,
    *,
    channels: Mapping[str, ChannelRecord] | None = None,
) -> int:
    """Creates the message's notifications and delivers those that have not reached their
    recipients: live to their connections, by `push` to those with none. How many were new.

    Idempotent: a redelivered record writes nothing twice and announces only what did not
    go out before. Each notification records how it was delivered (`live` or `push`), so a
    run that failed partway (SNS down for one recipient) is finished by the redelivery
    without repeating the others. A failed push raises PushFailed once every recipient was
    tried: the record is reported failed, retried, and ends in the DLQ.
    """
    if channels is None:
        channel = channel_store.get_channel(message.channelId)
    else:  # read ahead for a whole batch (`channels_of`); absent: deleted
        channel = channels.get(message.channelId)
    if channel is None:
        return 0  # deleted since: no one to tell
    notifies = may_notify(message, channel.type, here_only)
    pushes_all = _pushes_to_all(message, channel, here_only)
    if not notifies and not pushes_all:
        return 0  # meant for nobody: no one to tell
    levels = preference_store.member_levels(channel.channelId)
    members = set(levels)
    chosen = recipients(message, channel.type, members, here_only)
    failed: list[str] = []
    if pushes_all:
        failed += _push_to_all_level(message, levels, push, now, notified=chosen.user_ids)
    fresh = 0
    if notifies:
        fresh = _notify_recipients(
            message, chosen, publisher, push, now, levels=levels, failed=failed
        )
    if failed:
        metrics.add_metric("NotificationPushesFailed", MetricUnit.Count, len(failed))
        raise PushFailed(f"{len(failed)} pushes failed")
    return fresh


def _notify_recipients(
    message: MessageRecord,
    chosen: Recipients,
    publisher: Publisher,
    push: Push | None,
    now: float,
    *,
    levels: dict[str, str | None],
    failed: list[str],
) -> int:
    """Writes the recipients' notifications and delivers them: live, or by push where their
    preferences allow (the others are `held`: listed, never pushed). How many were new."""
    created_at = iso_now()
    pending: dict[str, NotificationRecord] = {}
    existing: list[str] = []
    for user_id in sorted(chosen.user_ids):
        item = NotificationRecord(
            recipientId=user_id,
            workspaceId=message.workspaceId,
            channelId=message.channelId,
            ts=message.ts,
            userId=message.userId,
            type=chosen.kind,
            createdAt=created_at,
        )
        if notification_store.create(item, int(now) + TTL_SECONDS):
            pending[user_id] = item
        else:
            existing.append(user_id)
    fresh = len(pending)
    if existing:  # a redelivery: what its first run left undelivered
        pending.update(notification_store.undelivered(existing, message.ts, message.channelId))
    if not pending:
        return 0
    # Every recipient's notification reads the same, so one event serves them all.
    notification = notification_view(next(iter(pending.values())))
    event = {"type": "notification", "notification": wire(notification)}
    delivery = publisher.to_users(message.workspaceId, sorted(pending), event)
    reached: set[str] = getattr(delivery, "reached", set())
    offline = sorted(set(pending) - reached)
    for user_id in sorted(reached & set(pending)):
        notification_store.mark_delivered(user_id, message.ts, message.channelId, "live")
    allowed = preferences.pushable(offline, levels, now, mentioned=True) if push else offline
    for user_id in sorted(set(offline) - set(allowed)):
        notification_store.mark_delivered(user_id, message.ts, message.channelId, "held")
    pushed_failed = _push_all(allowed, message, notification, push)
    failed += pushed_failed
    metrics.add_metric("NotificationsCreated", MetricUnit.Count, fresh)
    logger.info(
        "notified",
        extra={
            "channelId": message.channelId,
            "ts": message.ts,
            "count": fresh,
            "offline": len(offline),
            "held": len(offline) - len(allowed),
            "pushFailed": len(pushed_failed),
        },
    )
    return fresh


def _pushes_to_all(message: MessageRecord, channel: ChannelRecord, here_only: bool) -> bool:
    """Whether some member's level "all" may want this message pushed: a new message of a
    channel (not a DM, where every message is a notification) with such members."""
    return not here_only and channel.type not in _DIRECT and int(channel.notifyAllCount or 0) > 0


def _push_to_all_level(
    message: MessageRecord,
    levels: dict[str, str | None],
    push: Push | None,
    now: float,
    *,
    notified: frozenset[str],
) -> list[str]:
    """Pushes the message to the members whose level is "all", whom it does not notify
    otherwise, who have no live connection and are not in do not disturb; each push is
    claimed first, so a redelivery repeats only the failed ones. Those that failed."""
    if push is None:
        return []
    wanted = [
        u
        for u, level in levels.items()
        if level == "all" and u != message.userId and u not in notified
    ]
    if not wanted:
        return []
    live = set(connection_store.live_connections(message.workspaceId, wanted).values())
    allowed = preferences.pushable(sorted(set(wanted) - live), levels, now, mentioned=False)
    pushed = PushedMessage(
        id=f"{message.channelId}-{message.ts}",
        type="message",
        channelId=message.channelId,
        ts=message.ts,
        userId=message.userId,
        createdAt=iso_now(),
    )
    failed = []
    for user_id in allowed:
        expires = int(now) + 24 * 3600
        if not preference_store.claim_push(user_id, message.channelId, message.ts, expires):
            continue  # pushed by an earlier delivery of this record
        try:
            push.publish(user_id, message.workspaceId, pushed)
        except Exception:  # any adapter failure: the others still get theirs
            logger.exception("push failed", extra={"recipient": user_id, "ts": message.ts})
            preference_store.release_push(user_id, message.channelId, message.ts)
            failed.append(user_id)
    metrics.add_metric("MessagesPushed", MetricUnit.Count, len(allowed) - len(failed))
    return failed


def _push_all(
    offline: list[str], message: MessageRecord, notification: Notification, push: Push | None
) -> list[str]:
    """Pushes to each offline recipient, marking those it reached; the ones that failed."""
    if push is None:  # no topic configured: nothing to push to
        return []
    failed = []
    for user_id in offline:
        try:
            push.publish(user_id, message.workspaceId, notification)
        except Exception:  # any adapter failure: the other recipients still get theirs
            logger.exception("push failed", extra={"recipient": user_id, "ts": message.ts})
            failed.append(user_id)
            continue
        notification_store.mark_delivered(user_id, message.ts, message.channelId, "push")
    return failed


def tell(
    item: NotificationRecord,
    publisher: Publisher,
    push: Push | None,
    workspace_ids: list[str],
    now: float,
) -> bool:
    """Stores one notification that is no message's (a reminder, a dropped scheduled
    message) and delivers it as `notify` does: live to its recipient's connections in these
    workspaces, else pushed. Idempotent: a redelivery finishes what an earlier run left
    undelivered and repeats nothing; False when there was nothing left to do. A failed push
    raises, for the invocation to be retried."""
    user_id, key = item.recipientId, item.itemId or item.channelId
    if not notification_store.create(item, int(now) + TTL_SECONDS):
        earlier = notification_store.undelivered([user_id], item.ts, key)
        if user_id not in earlier:
            return False
        item = earlier[user_id]
    notification = notification_view(item)
    event = {"type": "notification", "notification": wire(notification)}
    reached = [
        wid for wid in workspace_ids if user_id in publisher.to_users(wid, [user_id], event).reached
    ]
    metrics.add_metric("NotificationsCreated", MetricUnit.Count, 1)
    if reached:
        notification_store.mark_delivered(user_id, item.ts, key, "live")
    elif push is not None:
        push.publish(user_id, item.workspaceId or next(iter(workspace_ids), ""), notification)
        notification_store.mark_delivered(user_id, item.ts, key, "push")
    return True


def wire(notification: Notification) -> dict[str, object]:
    """The notification as frames and pushes carry it: `text` only where there is one (a
    reminder's, a dropped scheduled message's), so mentions and DMs keep their shape."""
    return notification.model_dump(exclude={"text"} if notification.text is None else None)


def notification_view(item: NotificationRecord) -> Notification:
    if item.itemId is not None:  # a reminder's or a scheduled message's: named by its id
        return Notification(
            id=item.itemId,
            type="reminder" if item.type == "reminder" else "scheduled_dropped",
            channelId=item.channelId or None,
            ts=item.messageTs or item.ts,
            userId=item.userId,
            createdAt=item.createdAt,
            text=item.text,
        )
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
