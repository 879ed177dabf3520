"""The retention port: the policies, and what the daily sweep reads and deletes."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import ExpiredMessage, RetentionDeletion, RetentionRecord


class RetentionRepository(Protocol):
    def put_policy(self, policy: RetentionRecord) -> None:
        """Sets the workspace's policy (channelId None) or the channel's."""

    def remove_policy(self, workspace_id: str, channel_id: str | None) -> None:
        """Removes the workspace's policy (or the channel's); nothing if there was none."""

    def policies(self, workspace_id: str | None = None) -> list[RetentionRecord]:
        """Every policy (one Query of the sparse index per page), or one workspace's."""

    def policies_of(
        self, workspace_id: str, channel_id: str
    ) -> tuple[RetentionRecord | None, RetentionRecord | None]:
        """The workspace's and the channel's policy (one BatchGetItem)."""

    def workspace_channels(self, workspace_id: str) -> list[str]:
        """Every channel of the workspace (named ones and DMs): one Query per page."""

    def expired_page(
        self, channel_id: str, cutoff_ts: str, after_ts: str | None, limit: int
    ) -> list[ExpiredMessage]:
        """The channel's oldest messages (replies too) up to `cutoff_ts`, after `after_ts`,
        oldest first."""

    def thread_replies(self, channel_id: str, root_ts: str) -> list[ExpiredMessage]:
        """Every reply of the thread, whatever its age."""

    def pinned(self, channel_id: str) -> set[str]:
        """The ts of the channel's pinned messages."""

    def file_shares(self, file_id: str) -> set[tuple[str, str]]:
        """(channel id, ts) of every message that shares the file."""

    def file_objects(self, workspace_id: str, file_ids: list[str]) -> dict[str, str]:
        """The bucket key of each of these files that still exists."""

    def delete(self, deletion: RetentionDeletion) -> int:
        """Deletes it all with BatchWriteItem (25 keys a request, unprocessed keys retried
        with jittered backoff), in the deletion's order; the number of keys deleted."""


store: RetentionRepository = port("retention")
