"""The reads port: read markers of followed threads, and unread counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import FollowRecord

# Counting stops here; a client shows "999+". It bounds the read cost of one channel.
MAX_COUNTED = 999


@dataclass(frozen=True)
class Unread:
    messages: int
    mentions: int


class ReadRepository(Protocol):
    def unread_in_channel(self, channel_id: str, user_id: str, last_read_ts: str) -> Unread:
        """Top-level messages after the marker by others, and how many of them mention the
        user (<@user>, <!channel>, or <!here> while active), each counted up to MAX_COUNTED;
        nothing before the marker is read."""

    def follow(
        self, user_id: str, workspace_id: str, channel_id: str, thread_ts: str, read_ts: str
    ) -> None:
        """Follows the thread, read up to `read_ts`, unless already following it."""

    def followed_threads(self, user_id: str, workspace_id: str) -> list[FollowRecord]:
        """The threads the user follows in the workspace."""

    def set_thread_marker(self, user_id: str, channel_id: str, thread_ts: str, ts: str) -> bool:
        """Moves the read marker of a followed thread; False if the user does not follow it."""

    def unread_replies(
        self, channel_id: str, thread_ts: str, user_id: str, last_read_ts: str
    ) -> int:
        """Replies after the marker by others, counted up to MAX_COUNTED."""


store: ReadRepository = port("reads")
