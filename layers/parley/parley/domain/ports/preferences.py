"""The notification preferences port: each member's level per channel, each user's do not
disturb, and the claims that keep a pushed message from being pushed twice."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port


class PreferenceRepository(Protocol):
    def set_level(
        self, channel_id: str, user_id: str, level: str | None, before: str | None
    ) -> bool:
        """Sets the member's level if it is still `before`, keeping the channel's count of
        "all" members exact, in one transaction; False if the member left or the level
        changed meanwhile."""

    def member_levels(self, channel_id: str) -> dict[str, str | None]:
        """Every member's id with the level they chose (None: the default), one Query."""

    def set_dnd(self, user_id: str, until: str | None, expires_at: int | None) -> None:
        """Sets (or, with None, ends) the user's do not disturb, kept until `expires_at`."""

    def dnd_until(self, user_ids: list[str]) -> dict[str, str]:
        """The do-not-disturb ends (ISO 8601) of those of these users who set one."""

    def claim_push(self, user_id: str, channel_id: str, ts: str, expires_at: int) -> bool:
        """Claims pushing the message to the user; False if it was claimed before."""

    def release_push(self, user_id: str, channel_id: str, ts: str) -> None:
        """Gives a claim back (its push failed), so a redelivery pushes it."""


store: PreferenceRepository = port("preferences")
