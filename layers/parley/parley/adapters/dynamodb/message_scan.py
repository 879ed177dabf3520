"""Every message of the table, for rebuilding the search index (never on a request path)."""

from __future__ import annotations

from collections.abc import Iterator

from parley.adapters.dynamodb.items import MessageItem


def scan_messages(page_size: int = 500) -> Iterator[MessageItem]:
    """A full Scan filtered to message items: a maintenance job's read, paged by pynamodb.
    Strongly consistent, so that the reindex sees every write made before it reads a page."""
    yield from MessageItem.scan(
        filter_condition=MessageItem.SK.startswith("MSG#"),
        page_size=page_size,
        consistent_read=True,
    )
