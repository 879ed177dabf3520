"""The claims port: a person who signs up takes over the placeholder user that a Slack
import made for their email (parley.domain.claims)."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import ChannelRecord, MessageRecord, ReactionRecord


class ClaimRepository(Protocol):
    def unclaimed_placeholders(self, email: str) -> list[str]:
        """The ids of the import's placeholder users with this email (case folded) that
        nobody has claimed yet."""

    def claimed_by(self, user_ids: list[str]) -> dict[str, str]:
        """Of these users, the placeholders that someone claimed, and who."""

    def claim(self, placeholder_id: str, user_id: str) -> bool:
        """Marks the placeholder claimed by the user, once: False if another user claimed
        it first (a claim by the same user again is True)."""

    def move_workspace_memberships(self, placeholder_id: str, user_id: str) -> list[str]:
        """The placeholder's workspace memberships become the user's (its role, its
        joining time); the workspaces' ids."""

    def move_channel_memberships(self, placeholder_id: str, user_id: str) -> list[ChannelRecord]:
        """The placeholder's channel memberships become the user's, read markers and all
        (a channel's member count stays as it was); the channels."""

    def rekey_direct_message(
        self, workspace_id: str, old_digest: str, new_digest: str, channel_id: str
    ) -> None:
        """The DM's claim on its member set moves to the set with the user in the
        placeholder's place (unless that set has a DM already)."""

    def set_creator(self, channel_id: str, placeholder_id: str, user_id: str) -> None:
        """The channel's creator becomes the user where it was the placeholder."""

    def history_page(
        self, channel_id: str, cursor: str | None, limit: int
    ) -> tuple[list[MessageRecord], str | None]:
        """A page of every message of the channel, replies too, in ts order; the cursor
        to the next page (None at the end)."""

    def reassign(
        self,
        message: MessageRecord,
        *,
        user_id: str,
        text: str,
        reactions: tuple[ReactionRecord, ...],
        mentions: frozenset[str] | None,
    ) -> bool:
        """Rewrites the message's author, text, reactions and mentions, a version up (so
        search indexes it again), unless it changed since it was read: False then."""


store: ClaimRepository = port("claims")
