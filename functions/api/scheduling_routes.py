"""Scheduled messages and reminders (API.md, "Team features"): each fires once, at its
time, through a one-time schedule; until then it is in its owner's pending list."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from params import Cursor, Limit

from parley import wiring
from parley.domain import scheduling
from parley.domain.caller import Caller
from parley.domain.recurrence import Recurrence
from parley.edge.http import token_caller
from parley.edge.schemas import (
    CreateReminder,
    ReminderReply,
    RemindersReply,
    ScheduledListReply,
    ScheduledReply,
    ScheduleMessage,
)

router = Router()


def _caller() -> Caller:
    """No provisioning here: a scheduled message needs channel membership (the user was
    provisioned to get it), and a reminder is only the caller's own."""
    return token_caller(router.current_event)


@router.post("/channels/<cid>/scheduled", responses={201: {"description": "scheduled"}})
def schedule_message(cid: str, body: ScheduleMessage) -> Response[ScheduledReply]:
    scheduled = scheduling.schedule_message(
        _caller(),
        cid,
        text=body.text,
        post_at=body.postAt,
        thread_ts=body.threadTs,
        scheduler=wiring.scheduler(),
    )
    return Response(
        status_code=201, content_type="application/json", body=ScheduledReply(scheduled=scheduled)
    )


@router.get("/me/scheduled")
def list_scheduled(limit: Limit = 50, cursor: Cursor = None) -> ScheduledListReply:
    items, next_cursor = scheduling.list_scheduled(_caller(), limit, cursor)
    return ScheduledListReply(scheduled=items, nextCursor=next_cursor)


@router.delete("/scheduled/<id>", responses={204: {"description": "cancelled"}})
def cancel_scheduled(id: str) -> Response[None]:
    scheduling.cancel_scheduled(_caller(), id, wiring.scheduler())
    return Response(status_code=204)


@router.post("/me/reminders", responses={201: {"description": "created"}})
def add_reminder(body: CreateReminder) -> Response[ReminderReply]:
    reminder = scheduling.add_reminder(
        _caller(),
        text=body.text,
        at=body.at,
        channel_id=body.channelId,
        ts=body.ts,
        scheduler=wiring.scheduler(),
        recurrence=(
            Recurrence.of(body.recurrence.model_dump(exclude_none=True))
            if body.recurrence is not None
            else None
        ),
    )
    return Response(
        status_code=201, content_type="application/json", body=ReminderReply(reminder=reminder)
    )


@router.get("/me/reminders")
def list_reminders(limit: Limit = 50, cursor: Cursor = None) -> RemindersReply:
    items, next_cursor = scheduling.list_reminders(_caller(), limit, cursor)
    return RemindersReply(reminders=items, nextCursor=next_cursor)


@router.delete("/reminders/<id>", responses={204: {"description": "deleted"}})
def delete_reminder(id: str) -> Response[None]:
    scheduling.delete_reminder(_caller(), id, wiring.scheduler())
    return Response(status_code=204)
