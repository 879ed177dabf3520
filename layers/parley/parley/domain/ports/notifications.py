"""The notifications port: mentions and DMs waiting for their recipients."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import NotificationRecord


class NotificationRepository(Protocol):
    def create(self, notification: NotificationRecord, expires_at: int) -> bool:
        """Stores the notification, kept until `expires_at` (epoch seconds), unless it
        exists: False when a redelivery already made it."""

    def undelivered(
        self, user_ids: list[str], ts: str, channel_id: str
    ) -> dict[str, NotificationRecord]:
        """Of these recipients' notifications of the message, those that have not reached
        them yet, by recipient."""

    def mark_delivered(self, user_id: str, ts: str, channel_id: str, how: str) -> None:
        """Records how the notification reached its recipient ("live" or "push")."""

    def newest_first(
        self, user_id: str, limit: int, cursor: str | None
    ) -> tuple[list[NotificationRecord], str | None]:
        """One page of the user's notifications, newest first, and the next page's cursor
        (InvalidRequest for a cursor that is not one of these)."""


store: NotificationRepository = port("notifications")
