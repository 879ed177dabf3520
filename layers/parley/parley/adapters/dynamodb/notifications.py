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
from parley.errors import InvalidRequest


def notification_key(user_id: str, ts: str, channel_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", f"NOTIF#{ts}#{channel_id}"


def new_notification(
    recipient: str,
    *,
    kind: str,
    workspace_id: str,
    channel_id: str,
    ts: str,
    author_id: str,
    created_at: str,
    expires_at: int,
) -> NotificationItem:
    return NotificationItem(
        *notification_key(recipient, ts, channel_id),
        workspaceId=workspace_id,
        channelId=channel_id,
        ts=ts,
        userId=author_id,
        type=kind,
        createdAt=created_at,
        ttl=epoch(expires_at),
    )


def create(item: NotificationItem) -> bool:
    """Puts the notification unless it exists: False when a redelivery already made it."""
    try:
        item.save(condition=NotificationItem.PK.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def undelivered(user_ids: list[str], ts: str, channel_id: str) -> dict[str, NotificationItem]:
    """Of these recipients' notifications of the message, those that have not reached them
    yet (a redelivered record whose first run failed partway), by recipient."""
    keys = [notification_key(u, ts, channel_id) for u in user_ids]
    return {
        item.PK.removeprefix("USER#"): item
        for item in batch_get(NotificationItem, keys)
        if item.delivered is None
    }


def mark_delivered(user_id: str, ts: str, channel_id: str, how: str) -> None:
    NotificationItem(*notification_key(user_id, ts, channel_id)).update(
        actions=[NotificationItem.delivered.set(how)]
    )


def newest_first(
    user_id: str, limit: int, cursor: str | None
) -> tuple[list[NotificationItem], str | None]:
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
    items = list(result)
    last = result.last_evaluated_key
    return items, encode_cursor({"SK": last["SK"]["S"]} if last else None)
