"""Scheduled messages and reminders (API.md, "Team features").

Each pending one is an item in its owner's list and a one-time schedule of the same name
(the id) that fires once at its time and then deletes itself. The item is the truth: a
cancel removes it before the schedule, and a firing that finds no item does nothing, so a
schedule that outlived its cancel, or a redelivered firing, posts nothing twice. A posting
takes the item away only once the message is stored, and the post carries the id as its
`clientMsgId`, so a retry after a failure in between finds the first message.

A scheduled message is posted as its author through `messages.post_message`, the same path
(membership, archive, thread and rate checks, live delivery) as one typed at that moment.
If the author can no longer post there (left the channel, or it is gone or archived) the
message is dropped and the author gets a `scheduled_dropped` notification. A reminder
becomes a `reminder` notification of its owner, delivered as mentions are.

A recurring reminder is a chain of one-time schedules, one an occurrence, named by the
reminder and the occurrence's time: a firing notifies, schedules the next occurrence, then
moves the item's `at` to it on the condition that it still is the one fired. A firing whose
occurrence is no longer the item's (a redelivery, or one that outlived a cancel) does
nothing, and a crash in between repeats a notification that is written once (its place is
the occurrence's time) and a schedule that exists already.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from parley.domain import access, messages, notifications
from parley.domain.caller import Caller
from parley.domain.notifications import Push
from parley.domain.objects import Reminder, ScheduledMessage
from parley.domain.ports import Publisher
from parley.domain.ports.messages import store as message_store
from parley.domain.ports.scheduling import Scheduler
from parley.domain.ports.scheduling import store as schedule_store
from parley.domain.ports.workspaces import store as workspace_store
from parley.domain.records import NotificationRecord, ReminderRecord, ScheduledMessageRecord
from parley.domain.recurrence import Recurrence
from parley.errors import (
    InvalidRequest,
    MessageNotFound,
    NotFound,
    ParleyError,
    RateLimited,
    ThreadNotFound,
    TimeInPast,
    TimeTooFar,
)
from parley.ids import iso_now, new_id, ts_from_micros
from parley.limits import ID_PATTERN
from parley.observability import MetricUnit, logger, metrics

MESSAGE_LEAD = timedelta(minutes=1)  # API.md: postAt 1 minute to 120 days ahead
MESSAGE_HORIZON = timedelta(days=120)
REMINDER_HORIZON = timedelta(days=5 * 365)  # as far as Slack sets reminders
SCHEDULED_MESSAGE, REMINDER = "scheduled_message", "reminder"
# How long a firing waits out the author's send rate limit (a burst of messages scheduled
# for the same minute) before it fails and the invocation is retried.
RATE_WAIT_S = 20.0
_ID = re.compile(ID_PATTERN)  # an id that is none of ours (too long for a key) is not found


def _utc(moment: datetime) -> datetime:
    """An offset-less time is UTC, as EventBridge Scheduler reads `at(...)` by default."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC to the millisecond, as Parley writes every time (`createdAt`)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _when(moment: datetime, now: datetime, lead: timedelta, horizon: timedelta) -> datetime:
    moment = _utc(moment)
    if moment - now < lead:
        raise TimeInPast(
            f"the time must be at least {int(lead.total_seconds())} s ahead"
            if lead
            else "the time is past"
        )
    if moment - now > horizon:
        raise TimeTooFar(f"the time must be at most {horizon.days} days ahead")
    return moment


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def scheduled_view(item: ScheduledMessageRecord) -> ScheduledMessage:
    return ScheduledMessage(
        id=item.scheduledId,
        channelId=item.channelId,
        text=item.text,
        postAt=item.postAt,
        threadTs=item.threadTs,
    )


def reminder_view(item: ReminderRecord) -> Reminder:
    return Reminder(
        id=item.reminderId,
        text=item.text,
        at=item.at,
        channelId=item.channelId,
        ts=item.ts,
        recurrence=Recurrence.decode(item.recurrence).view() if item.recurrence else None,
    )


def _payload(kind: str, user_id: str, item_id: str) -> dict[str, str]:
    return {"kind": kind, "userId": user_id, "id": item_id}


def occurrence_name(reminder_id: str, at: str) -> str:
    """A recurring reminder's schedule for its occurrence at `at` (a one-time reminder's is
    its id): `<id>-<epoch seconds>`, within Scheduler's 64 characters of `[0-9A-Za-z-_.]`."""
    return f"{reminder_id}-{math.ceil(datetime.fromisoformat(at).timestamp())}"


def _reminder_schedule(item: ReminderRecord) -> str:
    return occurrence_name(item.reminderId, item.at) if item.recurrence else item.reminderId


def _reminder_payload(item: ReminderRecord) -> dict[str, str]:
    payload = _payload(REMINDER, item.userId, item.reminderId)
    return {**payload, "at": item.at} if item.recurrence else payload


def _schedule(
    scheduler: Scheduler, item_id: str, at: datetime, payload: dict[str, Any], undo: Any
) -> None:
    """The item's schedule; without one the item would wait forever, so it goes too."""
    try:
        scheduler.schedule(item_id, at, payload)
    except Exception:
        undo()
        raise


# ------------------------------------------------------------------ scheduled messages


def schedule_message(
    caller: Caller,
    channel_id: str,
    *,
    text: str,
    post_at: datetime,
    thread_ts: str | None,
    scheduler: Scheduler,
    now: datetime | None = None,
) -> ScheduledMessage:
    """Schedules the caller's message for `post_at` (1 minute to 120 days ahead); the
    caller must be able to post in the channel now (and the thread must exist)."""
    messages.check_text(text)
    channel, _ = access.channel_member(channel_id, caller.user_id, caller.workspace_id)
    if thread_ts is not None:
        parent = message_store.get_message(channel_id, thread_ts)
        if parent is None or parent.threadTs is not None:
            raise ThreadNotFound("thread not found")
    at = _when(post_at, _now(now), MESSAGE_LEAD, MESSAGE_HORIZON)
    item = ScheduledMessageRecord(
        scheduledId=new_id("Q"),
        userId=caller.user_id,
        workspaceId=channel.workspaceId,
        channelId=channel_id,
        text=text,
        postAt=iso(at),
        createdAt=iso_now(),
        threadTs=thread_ts,
        appId=caller.app_id,
    )
    schedule_store.put_scheduled(item)
    _schedule(
        scheduler,
        item.scheduledId,
        at,
        _payload(SCHEDULED_MESSAGE, caller.user_id, item.scheduledId),
        lambda: schedule_store.remove_scheduled(caller.user_id, item.scheduledId),
    )
    metrics.add_metric("MessageScheduled", MetricUnit.Count, 1)
    return scheduled_view(item)


def list_scheduled(
    caller: Caller, limit: int, cursor: str | None, channel_id: str | None = None
) -> tuple[list[ScheduledMessage], str | None]:
    """The caller's pending scheduled messages, soonest first."""
    items, next_cursor = schedule_store.scheduled_of(caller.user_id, limit, cursor, channel_id)
    return [scheduled_view(item) for item in items], next_cursor


def get_scheduled(caller: Caller, scheduled_id: str) -> ScheduledMessage:
    item = _ID.match(scheduled_id) and schedule_store.get_scheduled(caller.user_id, scheduled_id)
    if not item:
        raise NotFound("scheduled message not found")
    return scheduled_view(item)


def cancel_scheduled(caller: Caller, scheduled_id: str, scheduler: Scheduler) -> None:
    """Only its author's: for anyone else, as for one posted already, it does not exist."""
    if not _ID.match(scheduled_id) or not schedule_store.remove_scheduled(
        caller.user_id, scheduled_id
    ):
        raise NotFound("scheduled message not found")
    scheduler.cancel(scheduled_id)


# ------------------------------------------------------------------ reminders


def add_reminder(
    caller: Caller,
    *,
    text: str,
    at: datetime,
    channel_id: str | None,
    ts: str | None,
    scheduler: Scheduler,
    now: datetime | None = None,
    recurrence: Recurrence | None = None,
) -> Reminder:
    """A reminder for the caller at `at` (and then as `recurrence` says), about a message
    (`channelId` and `ts`) the caller can see, a channel, or nothing."""
    messages.check_text(text)
    if ts is not None and channel_id is None:
        raise InvalidRequest("ts needs its channelId")
    workspace_id = caller.workspace_id
    if channel_id is not None:
        channel, _ = access.visible_channel(channel_id, caller.user_id)
        if caller.workspace_id is not None and channel.workspaceId != caller.workspace_id:
            raise NotFound("channel not found")
        workspace_id = channel.workspaceId
        if ts is not None and message_store.get_message(channel_id, ts) is None:
            raise MessageNotFound("message not found")
    when = _when(at, _now(now), timedelta(0), REMINDER_HORIZON)
    item = ReminderRecord(
        reminderId=new_id("Rm"),
        userId=caller.user_id,
        text=text,
        at=iso(when),
        createdAt=iso_now(),
        workspaceId=workspace_id,
        channelId=channel_id,
        ts=ts,
        recurrence=recurrence.encode() if recurrence is not None else None,
        firstAt=iso(when) if recurrence is not None else None,
    )
    schedule_store.put_reminder(item)
    _schedule(
        scheduler,
        _reminder_schedule(item),
        when,
        _reminder_payload(item),
        lambda: schedule_store.remove_reminder(caller.user_id, item.reminderId),
    )
    metrics.add_metric("ReminderScheduled", MetricUnit.Count, 1)
    return reminder_view(item)


def list_reminders(
    caller: Caller, limit: int, cursor: str | None
) -> tuple[list[Reminder], str | None]:
    items, next_cursor = schedule_store.reminders_of(caller.user_id, limit, cursor)
    return [reminder_view(item) for item in items], next_cursor


def get_reminder(caller: Caller, reminder_id: str) -> Reminder:
    item = (
        schedule_store.get_reminder(caller.user_id, reminder_id) if _ID.match(reminder_id) else None
    )
    if item is None:
        raise NotFound("reminder not found")
    return reminder_view(item)


def delete_reminder(caller: Caller, reminder_id: str, scheduler: Scheduler) -> None:
    item = (
        schedule_store.get_reminder(caller.user_id, reminder_id) if _ID.match(reminder_id) else None
    )
    if item is None or not schedule_store.remove_reminder(caller.user_id, reminder_id):
        raise NotFound("reminder not found")
    # A firing that moved a recurring one on in between leaves a schedule that finds no item.
    scheduler.cancel(_reminder_schedule(item))


# ------------------------------------------------------------------ firing


@dataclass(frozen=True)
class _Draft:
    """A scheduled message as `messages.post_message` takes a post."""

    text: str
    threadTs: str | None
    clientMsgId: str
    fileIds: list[str] | None = None
    blocks: list[dict[str, Any]] | None = None


def _due_ts(moment: str) -> str:
    """The notification's place in its recipient's list: the item's time, as a ts (the same
    on a redelivery, so the notification is written once)."""
    micros = int(datetime.fromisoformat(moment).timestamp() * 1_000_000)
    return ts_from_micros(micros)


def fire(
    payload: dict[str, Any],
    publisher: Publisher,
    push: Push | None,
    now: float | None = None,
    scheduler: Callable[[], Scheduler] | None = None,
) -> str:
    """What a schedule's invocation does with its payload; what became of the item
    ("posted", "dropped", "reminded", or "gone": cancelled, or done by an earlier run)."""
    kind, user_id, item_id = payload.get("kind"), payload.get("userId"), payload.get("id")
    if not isinstance(user_id, str) or not isinstance(item_id, str):
        raise ValueError(f"not a schedule's payload: {payload!r}")
    moment = time.time() if now is None else now
    if kind == SCHEDULED_MESSAGE:
        scheduled = schedule_store.get_scheduled(user_id, item_id)
        return "gone" if scheduled is None else _post(scheduled, publisher, push, moment)
    if kind == REMINDER:
        reminder = schedule_store.get_reminder(user_id, item_id)
        if reminder is None or (reminder.recurrence and payload.get("at") != reminder.at):
            return "gone"  # cancelled, done, or an occurrence already past for this series
        return _remind(reminder, publisher, push, moment, scheduler)
    raise ValueError(f"not a schedule's payload: {payload!r}")


def _post(item: ScheduledMessageRecord, publisher: Publisher, push: Push | None, now: float) -> str:
    author = Caller(
        user_id=item.userId,
        app_id=item.appId,
        workspace_id=item.workspaceId if item.appId else None,
        scopes=frozenset({"chat:write"}) if item.appId else frozenset(),
    )
    draft = _Draft(text=item.text, threadTs=item.threadTs, clientMsgId=item.scheduledId)
    waited_until = time.monotonic() + RATE_WAIT_S
    while True:
        try:
            message, _ = messages.post_message(author, item.channelId, draft, publisher)
            break
        except RateLimited as limited:
            if time.monotonic() + limited.retry_after > waited_until:
                raise  # the invocation fails and is retried (and ends in the DLQ)
            time.sleep(limited.retry_after)
        except ParleyError as refused:  # no longer a member, channel gone or archived, ...
            return _drop(item, refused, publisher, push, now)
    schedule_store.remove_scheduled(item.userId, item.scheduledId)
    metrics.add_metric("ScheduledMessagePosted", MetricUnit.Count, 1)
    logger.info(
        "scheduled message posted",
        extra={"scheduledId": item.scheduledId, "channelId": item.channelId, "ts": message.ts},
    )
    return "posted"


def _drop(
    item: ScheduledMessageRecord,
    refused: ParleyError,
    publisher: Publisher,
    push: Push | None,
    now: float,
) -> str:
    notice = NotificationRecord(
        recipientId=item.userId,
        workspaceId=item.workspaceId,
        channelId=item.channelId,
        ts=_due_ts(item.postAt),
        userId=item.userId,
        type="scheduled_dropped",
        createdAt=iso_now(),
        itemId=item.scheduledId,
        text=item.text,
    )
    notifications.tell(notice, publisher, push, [item.workspaceId], now)
    schedule_store.remove_scheduled(item.userId, item.scheduledId)
    metrics.add_metric("ScheduledMessageDropped", MetricUnit.Count, 1)
    logger.info(
        "scheduled message dropped",
        extra={"scheduledId": item.scheduledId, "channelId": item.channelId, "why": str(refused)},
    )
    return "dropped"


def _remind(
    item: ReminderRecord,
    publisher: Publisher,
    push: Push | None,
    now: float,
    scheduler: Callable[[], Scheduler] | None,
) -> str:
    if item.workspaceId is not None:
        workspace_ids = [item.workspaceId]
    else:  # about nothing in particular: wherever its owner is connected
        workspace_ids = sorted(m.workspaceId for m in workspace_store.memberships_of(item.userId))
    notice = NotificationRecord(
        recipientId=item.userId,
        workspaceId=item.workspaceId or "",
        channelId=item.channelId or "",
        ts=_due_ts(item.at),
        userId=item.userId,
        type="reminder",
        createdAt=iso_now(),
        itemId=item.reminderId,
        text=item.text,
        messageTs=item.ts,
    )
    notifications.tell(notice, publisher, push, workspace_ids, now)
    metrics.add_metric("RemindersFired", MetricUnit.Count, 1)
    if item.recurrence is None:
        schedule_store.remove_reminder(item.userId, item.reminderId)
        return "reminded"
    if scheduler is None:
        raise ValueError("a recurring reminder needs the scheduler for its next occurrence")
    # The next occurrence after this one and after now (a late firing skips none it owes
    # but the missed ones, as a calendar does).
    series = Recurrence.decode(item.recurrence)
    first = datetime.fromisoformat(item.firstAt or item.at)
    after = max(datetime.fromisoformat(item.at), datetime.fromtimestamp(now, UTC))
    following = replace(item, at=iso(series.next_after(first, after)))
    clock = scheduler()
    name, at = _reminder_schedule(following), datetime.fromisoformat(following.at)
    clock.schedule(name, at, _reminder_payload(following))
    if not schedule_store.advance_reminder(item.userId, item.reminderId, item.at, following.at):
        clock.cancel(name)  # cancelled meanwhile
        return "gone"
    return "reminded"
