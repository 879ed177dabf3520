"""The scheduling ports: the pending scheduled messages and reminders (each in its owner's
list), and the scheduler that fires each once at its time (EventBridge Scheduler in AWS)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from parley.domain.ports import port
from parley.domain.records import ReminderRecord, ScheduledMessageRecord


class ScheduleRepository(Protocol):
    def put_scheduled(self, scheduled: ScheduledMessageRecord) -> None:
        """Stores a new pending scheduled message."""

    def get_scheduled(self, user_id: str, scheduled_id: str) -> ScheduledMessageRecord | None:
        """The user's pending scheduled message; None if there is none (posted, cancelled,
        or someone else's)."""

    def scheduled_of(
        self, user_id: str, limit: int, cursor: str | None, channel_id: str | None = None
    ) -> tuple[list[ScheduledMessageRecord], str | None]:
        """One page of the user's pending scheduled messages, soonest first (of one channel
        if given), and the next page's cursor (InvalidRequest for a cursor not of these)."""

    def remove_scheduled(self, user_id: str, scheduled_id: str) -> bool:
        """Removes the pending scheduled message; False if it was not there (a redelivery
        or a cancel that came first)."""

    def put_reminder(self, reminder: ReminderRecord) -> None:
        """Stores a new pending reminder."""

    def get_reminder(self, user_id: str, reminder_id: str) -> ReminderRecord | None:
        """The user's pending reminder; None if there is none."""

    def reminders_of(
        self, user_id: str, limit: int, cursor: str | None
    ) -> tuple[list[ReminderRecord], str | None]:
        """One page of the user's pending reminders, soonest first, and the next cursor."""

    def advance_reminder(self, user_id: str, reminder_id: str, previous_at: str, at: str) -> bool:
        """Moves a recurring reminder from its occurrence `previous_at` to its next, `at`;
        False if it is gone (cancelled) or was moved already (a redelivered firing)."""

    def remove_reminder(self, user_id: str, reminder_id: str) -> bool:
        """Removes the pending reminder; False if it was not there."""


class Scheduler(Protocol):
    """Runs the scheduled-work function once, at a time, with a payload (`parley.adapters.
    scheduler.EventBridgeScheduler`: a one-time schedule that deletes itself after it ran)."""

    def schedule(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        """Creates the one-time schedule `name` for `at` (UTC, whole seconds); one of that
        name there already is kept (a redelivered firing made it)."""

    def cancel(self, name: str) -> None:
        """Deletes the schedule; one that is gone (it ran, or was cancelled) is no error."""


store: ScheduleRepository = port("scheduling")
