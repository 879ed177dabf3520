"""The channels port: channels, their names and their members."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import ChannelMemberRecord, ChannelRecord


class NameTaken(Exception):
    """The workspace already has a channel of that name."""


class ChannelRepository(Protocol):
    def create_channel(self, channel: ChannelRecord) -> None:
        """Stores the channel, its name claim and its creator (createdBy, joined at
        createdAt) as first member, all or nothing; NameTaken if the name is in use."""

    def get_channel(self, channel_id: str) -> ChannelRecord | None:
        """The channel; None if there is none."""

    def get_channels(self, channel_ids: list[str]) -> list[ChannelRecord]:
        """Those of the channels that exist, in no particular order."""

    def get_membership(self, channel_id: str, user_id: str) -> ChannelMemberRecord | None:
        """The user's membership of the channel; None if not a member."""

    def get_memberships(self, channel_ids: list[str], user_id: str) -> list[ChannelMemberRecord]:
        """The user's memberships among these channels, in no particular order."""

    def public_channels(self, workspace_id: str) -> list[ChannelRecord]:
        """Every public channel of the workspace, by name."""

    def memberships_in_workspace(
        self, user_id: str, workspace_id: str
    ) -> list[ChannelMemberRecord]:
        """Every channel membership the user has in the workspace."""

    def channel_with_members(self, channel_id: str) -> tuple[ChannelRecord | None, list[str]]:
        """The channel (None if there is none) and every member's id, read together."""

    def members_among(self, channel_id: str, user_ids: list[str]) -> set[str]:
        """Which of `user_ids` are members of the channel."""

    def member_ids(self, channel_id: str) -> list[str]:
        """Every member's id."""

    def list_members(
        self, channel_id: str, limit: int, cursor: str | None
    ) -> tuple[list[ChannelMemberRecord], str | None]:
        """One page of the channel's memberships, and the next page's cursor."""

    def add_channel_members(
        self, channel: ChannelRecord, user_ids: list[str], joined_at: str
    ) -> list[str]:
        """Adds each user not yet a member, keeping memberCount exact; those it added (a
        repeated or concurrent join neither fails nor counts twice)."""

    def remove_channel_member(self, channel_id: str, user_id: str) -> bool:
        """Removes the member, keeping memberCount exact; False if not a member."""

    def rename_channel(self, channel: ChannelRecord, new_name: str) -> None:
        """Moves the name claim and renames, all or nothing, if the channel is still named
        `channel.name`; NameTaken if the new name is in use (or the name changed since)."""

    def set_topic(self, channel_id: str, topic: str) -> None:
        """Sets the topic of the channel, which must exist."""

    def set_archived(self, channel_id: str, archived: bool) -> bool:
        """Archives or unarchives the channel if it is not so already; False if it was."""

    def open_direct_message(
        self, channel: ChannelRecord, member_ids: list[str], digest: str
    ) -> ChannelRecord:
        """The DM channel of the member set whose digest this is: `channel`, created with
        every member, or the channel made for it before (also by a concurrent open)."""

    def set_read_marker(self, channel_id: str, user_id: str, ts: str) -> bool:
        """Sets the member's read marker (backwards too); False if not a member."""


store: ChannelRepository = port("channels")
