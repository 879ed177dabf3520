"""The imports port: a Slack export's import, its plan's maps, and the history it writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from parley.domain.ports import port
from parley.domain.records import ChannelRecord, ImportRecord, MessageRecord


@dataclass(frozen=True, slots=True)
class ChunkCounts:
    """What one chunk (a day file) imported, added to its import's counts once."""

    messages: int = 0
    replies: int = 0
    reactions: int = 0
    files: int = 0
    invalid: int = 0


class ImportRepository(Protocol):
    def create_import(self, record: ImportRecord) -> None:
        """Stores the new import (ids are random: a clash is a bug, not a retry)."""

    def get_import(self, import_id: str, consistent: bool = False) -> ImportRecord | None:
        """The import; None if there is none."""

    def mark_running(self, import_id: str) -> bool:
        """pending -> running; False if the import was not pending."""

    def fail(self, import_id: str, reason: str) -> bool:
        """pending or running -> failed with its reason; False if it had ended already
        (the first reason stays)."""

    def set_planned(
        self,
        import_id: str,
        *,
        team_id: str,
        object_size: int,
        users: int,
        channels: int,
        chunks: int,
    ) -> None:
        """Records the plan (a re-run of the plan sets the same values), while running."""

    def finish_if_complete(self, import_id: str) -> bool:
        """running -> done once every planned chunk is counted; False otherwise."""

    def save_maps(
        self, import_id: str, users: Mapping[str, str], channels: Mapping[str, str]
    ) -> None:
        """Stores the plan's maps (Slack user and bot ids, conversation ids, to Parley's)."""

    def load_maps(self, import_id: str) -> tuple[dict[str, str], dict[str, str]]:
        """The plan's maps, users' and channels'; empty if the plan stored none."""

    def chunk_done(self, import_id: str, chunk_id: str) -> bool:
        """Whether the chunk was counted already."""

    def complete_chunk(
        self,
        import_id: str,
        chunk_id: str,
        counts: ChunkCounts,
        errors: list[str],
        max_errors: int,
    ) -> bool:
        """Marks the chunk done and adds its counts to the import, at most once: False if
        it was counted before. Its errors are appended while the import holds fewer than
        `max_errors`."""

    def named_channels(self, workspace_id: str) -> list[ChannelRecord]:
        """Every channel of the workspace that holds a name (public and private ones)."""

    def ensure_user(
        self, user_id: str, name: str, email: str, kind: Literal["placeholder", "bot"]
    ) -> bool:
        """Stores the profile of a user the import makes unless it exists; True if new."""

    def existing_messages(self, channel_id: str, timestamps: list[str]) -> set[str]:
        """Which of these messages the channel holds already."""

    def write_messages(self, messages: list[MessageRecord]) -> None:
        """Writes imported messages as they are (BatchWriteItem, no condition: the caller
        leaves out those that exist), replies under their thread."""

    def recount_thread(self, channel_id: str, thread_ts: str, written: set[str]) -> bool:
        """Sets the root's replyCount and latestReplyTs from its replies (those the thread
        index returns and `written`, which it may not show yet), only upward; False if the
        root is missing or already counted as much."""

    def set_thread_counts(self, channel_id: str, thread_ts: str, count: int, latest: str) -> bool:
        """Sets the root's replyCount and latestReplyTs, only upward; False if the root is
        missing or already counted as much."""

    def raise_read_markers(self, channel_id: str, ts: str) -> int:
        """Moves every member's read marker that is before `ts` to `ts`; how many moved."""


store: ImportRepository = port("imports")
