"""Pending scheduled messages (`USER#<uid>` / `SCHED#<id>`) and reminders (`USER#<uid>` /
`REMIND#<id>`) in their owner's partition, listed soonest first through GSI1
(`USER#<uid>#SCHED` / `<postAt>#<id>`, `USER#<uid>#REMIND` / `<at>#<id>`)."""

from __future__ import annotations

from typing import Any, TypeVar

from parley.adapters.dynamodb.base import (
    Item,
    conditional,
    decode_cursor,
    encode_cursor,
    get_or_none,
)
from parley.adapters.dynamodb.items import ReminderItem, ScheduledMessageItem
from parley.adapters.dynamodb.records import to_item, to_record
from parley.domain.records import ReminderRecord, ScheduledMessageRecord
from parley.errors import InvalidCursor

T = TypeVar("T", bound=Item)


def scheduled_key(user_id: str, scheduled_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", f"SCHED#{scheduled_id}"


def reminder_key(user_id: str, reminder_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", f"REMIND#{reminder_id}"


def _soonest_first(
    model: type[T],
    user_id: str,
    kind: str,
    *,
    limit: int,
    cursor: str | None,
    filter_condition: Any = None,
) -> tuple[list[T], str | None]:
    """One page of the user's GSI1 list of this kind; the cursor holds the last item's keys
    (the partition is the query's own, so a cursor from elsewhere reads nothing else)."""
    index_pk = f"USER#{user_id}#{kind}"
    start = decode_cursor(cursor, required=("SK", "G"))
    if start and not start["SK"].startswith(f"{kind}#"):
        raise InvalidCursor("cursor is not valid")
    result = model.gsi1.query(
        index_pk,
        filter_condition=filter_condition,
        limit=limit,
        last_evaluated_key=(
            {
                "PK": {"S": f"USER#{user_id}"},
                "SK": {"S": start["SK"]},
                "GSI1PK": {"S": index_pk},
                "GSI1SK": {"S": start["G"]},
            }
            if start
            else None
        ),
    )
    items = list(result)
    last = result.last_evaluated_key
    position = {"SK": last["SK"]["S"], "G": last["GSI1SK"]["S"]} if last else None
    return items, encode_cursor(position)


# ------------------------------------------------------------------ scheduled messages


def put_scheduled(scheduled: ScheduledMessageRecord) -> None:
    to_item(
        scheduled,
        ScheduledMessageItem,
        *scheduled_key(scheduled.userId, scheduled.scheduledId),
        GSI1PK=f"USER#{scheduled.userId}#SCHED",
        GSI1SK=f"{scheduled.postAt}#{scheduled.scheduledId}",
    ).save()


def get_scheduled(user_id: str, scheduled_id: str) -> ScheduledMessageRecord | None:
    item = get_or_none(ScheduledMessageItem, *scheduled_key(user_id, scheduled_id), True)
    return to_record(item, ScheduledMessageRecord) if item is not None else None


def scheduled_of(
    user_id: str, limit: int, cursor: str | None, channel_id: str | None = None
) -> tuple[list[ScheduledMessageRecord], str | None]:
    wanted = ScheduledMessageItem.channelId == channel_id if channel_id is not None else None
    items, next_cursor = _soonest_first(
        ScheduledMessageItem, user_id, "SCHED", limit=limit, cursor=cursor, filter_condition=wanted
    )
    return [to_record(item, ScheduledMessageRecord) for item in items], next_cursor


def remove_scheduled(user_id: str, scheduled_id: str) -> bool:
    item = ScheduledMessageItem(*scheduled_key(user_id, scheduled_id))
    return conditional(lambda: item.delete(condition=ScheduledMessageItem.PK.exists()))


# ------------------------------------------------------------------ reminders


def put_reminder(reminder: ReminderRecord) -> None:
    to_item(
        reminder,
        ReminderItem,
        *reminder_key(reminder.userId, reminder.reminderId),
        GSI1PK=f"USER#{reminder.userId}#REMIND",
        GSI1SK=f"{reminder.at}#{reminder.reminderId}",
    ).save()


def get_reminder(user_id: str, reminder_id: str) -> ReminderRecord | None:
    item = get_or_none(ReminderItem, *reminder_key(user_id, reminder_id), True)
    return to_record(item, ReminderRecord) if item is not None else None


def reminders_of(
    user_id: str, limit: int, cursor: str | None
) -> tuple[list[ReminderRecord], str | None]:
    items, next_cursor = _soonest_first(ReminderItem, user_id, "REMIND", limit=limit, cursor=cursor)
    return [to_record(item, ReminderRecord) for item in items], next_cursor


def advance_reminder(user_id: str, reminder_id: str, previous_at: str, at: str) -> bool:
    item = ReminderItem(*reminder_key(user_id, reminder_id))
    return conditional(
        lambda: item.update(
            actions=[ReminderItem.at.set(at), ReminderItem.GSI1SK.set(f"{at}#{reminder_id}")],
            condition=ReminderItem.PK.exists() & (ReminderItem.at == previous_at),
        )
    )


def remove_reminder(user_id: str, reminder_id: str) -> bool:
    item = ReminderItem(*reminder_key(user_id, reminder_id))
    return conditional(lambda: item.delete(condition=ReminderItem.PK.exists()))
