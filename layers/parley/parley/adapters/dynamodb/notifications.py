"""Notifications: one item per recipient and message, written once, read newest first."""

from __future__ import annotations

from pynamodb.exceptions import PutError

from parley.adapters.dynamodb.base import (
    batch_get,
    condition_failed,
    decode_cursor,
    encode_cursor,
    epoch,
)
from parley.adapters.dynamodb.items import NotificationItem
from parley.adapters.dynamodb.records import to_item, to_record
from parley.domain.records import NotificationRecord
from parley.errors import InvalidRequest


def notification_key(user_id: str, ts: str, channel_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", f"NOTIF#{ts}#{channel_id}"


def notification_record(item: NotificationItem) -> NotificationRecord:
    return to_record(item, NotificationRecord, recipientId=item.PK.removeprefix("USER#"))


def create(notification: NotificationRecord, expires_at: int) -> bool:
    """Puts the notification unless it exists: False when a redelivery already made it."""
    item = to_item(
        notification,
        NotificationItem,
        *notification_key(
            notification.recipientId,
            notification.ts,
            notification.itemId or notification.channelId,
        ),
        ttl=epoch(expires_at),
    )
    try:
        item.save(condition=NotificationItem.PK.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def undelivered(user_ids: list[str], ts: str, channel_id: str) -> dict[str, NotificationRecord]:
    """Of these recipients' notifications of the message, those that have not reached them
    yet (a redelivered record whose first run failed partway), by recipient."""
    keys = [notification_key(u, ts, channel_id) for u in user_ids]
    found = (notification_record(item) for item in batch_get(NotificationItem, keys))
    return {record.recipientId: record for record in found if record.delivered is None}


def mark_delivered(user_id: str, ts: str, channel_id: str, how: str) -> None:
    NotificationItem(*notification_key(user_id, ts, channel_id)).update(
        actions=[NotificationItem.delivered.set(how)]
    )


def newest_first(
    user_id: str, limit: int, cursor: str | None
) -> tuple[list[NotificationRecord], str | None]:
    pk = f"USER#{user_id}"
    start = decode_cursor(cursor, required=("SK",))
    if start and not start["SK"].startswith("NOTIF#"):  # outside the query: DynamoDB's 400
        raise InvalidRequest("cursor is not valid")
    result = NotificationItem.query(
        pk,
        NotificationItem.SK.startswith("NOTIF#"),
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key={"PK": {"S": pk}, "SK": {"S": start["SK"]}} if start else None,
    )
    items = [to_record(item, NotificationRecord, recipientId=user_id) for item in result]
    last = result.last_evaluated_key
    return items, encode_cursor({"SK": last["SK"]["S"]} if last else None)
