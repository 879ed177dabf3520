"""Bookmarks: `CH#<cid>` / `BOOKMARK#<bid>` in the channel's partition (listed with one
Query), and `BOOKMARK#<bid>` / `BOOKMARK` naming the channel, since routes name a bookmark
by its id alone; both written and removed together."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from parley.adapters.dynamodb.base import (
    cancelled_by_condition,
    conditional,
    get_or_none,
    transaction,
)
from parley.adapters.dynamodb.items import BookmarkItem, BookmarkPointerItem
from parley.adapters.dynamodb.records import to_item, to_record
from parley.domain.records import BookmarkRecord


def bookmark_key(channel_id: str, bookmark_id: str) -> tuple[str, str]:
    return f"CH#{channel_id}", f"BOOKMARK#{bookmark_id}"


def pointer_key(bookmark_id: str) -> tuple[str, str]:
    return f"BOOKMARK#{bookmark_id}", "BOOKMARK"


def _item(bookmark: BookmarkRecord) -> BookmarkItem:
    return to_item(bookmark, BookmarkItem, *bookmark_key(bookmark.channelId, bookmark.bookmarkId))


def create(bookmark: BookmarkRecord) -> None:
    pointer = BookmarkPointerItem(*pointer_key(bookmark.bookmarkId), channelId=bookmark.channelId)
    with transaction() as tx:
        tx.save(pointer, condition=BookmarkPointerItem.PK.does_not_exist())
        tx.save(_item(bookmark), condition=BookmarkItem.PK.does_not_exist())


def get(bookmark_id: str) -> BookmarkRecord | None:
    pointer = get_or_none(BookmarkPointerItem, *pointer_key(bookmark_id), consistent=True)
    if pointer is None:
        return None
    item = get_or_none(BookmarkItem, *bookmark_key(pointer.channelId, bookmark_id), consistent=True)
    return to_record(item, BookmarkRecord) if item is not None else None


def in_channel(channel_id: str) -> list[BookmarkRecord]:
    query = BookmarkItem.query(
        f"CH#{channel_id}", BookmarkItem.SK.startswith("BOOKMARK#"), consistent_read=True
    )
    return [to_record(item, BookmarkRecord) for item in query]


def update(bookmark: BookmarkRecord) -> bool:
    return conditional(lambda: _item(bookmark).save(condition=BookmarkItem.PK.exists()))


def delete(bookmark: BookmarkRecord) -> bool:
    try:
        with transaction() as tx:
            tx.delete(_item(bookmark), condition=BookmarkItem.PK.exists())
            tx.delete(BookmarkPointerItem(*pointer_key(bookmark.bookmarkId)))
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            return False
        raise
    return True
