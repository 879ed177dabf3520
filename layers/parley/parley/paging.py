"""Offset cursors: paging through a list computed whole (channels, search hits)."""

from __future__ import annotations

from typing import TypeVar

from parley.errors import InvalidCursor

T = TypeVar("T")


def decode_offset(cursor: str | None) -> int:
    """The position in a list computed whole (channels, search hits), or a 400."""
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise InvalidCursor("cursor is not valid")
    return int(cursor)


def offset_page(items: list[T], limit: int, cursor: str | None) -> tuple[list[T], str | None]:
    """One page of a list computed whole, and the offset cursor to the next (None at the end)."""
    start = decode_offset(cursor)
    more = start + limit < len(items)
    return items[start : start + limit], str(start + limit) if more else None
