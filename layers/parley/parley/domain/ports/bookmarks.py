"""The bookmarks port: links pinned to the top of a channel."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import BookmarkRecord


class BookmarkRepository(Protocol):
    def create(self, bookmark: BookmarkRecord) -> None:
        """Stores a new bookmark with its id's pointer to the channel, in one transaction."""

    def get(self, bookmark_id: str) -> BookmarkRecord | None:
        """The bookmark, read consistently; None if there is none."""

    def in_channel(self, channel_id: str) -> list[BookmarkRecord]:
        """The channel's bookmarks (one Query), in no particular order."""

    def update(self, bookmark: BookmarkRecord) -> bool:
        """Replaces the bookmark if it still exists; False if it was removed meanwhile."""

    def delete(self, bookmark: BookmarkRecord) -> bool:
        """Removes the bookmark and its pointer; False if it was gone already."""


store: BookmarkRepository = port("bookmarks")
