"""Pinned messages of a channel."""

from __future__ import annotations

from pynamodb.exceptions import DeleteError, PutError

from parley.store.base import condition_failed
from parley.store.items import PinItem


def pin_key(channel_id: str, ts: str) -> tuple[str, str]:
    return f"CH#{channel_id}", f"PIN#{ts}"


def pin(channel_id: str, ts: str, user_id: str, pinned_at: str) -> bool:
    """Pins the message; False if it was pinned already."""
    item = PinItem(*pin_key(channel_id, ts), ts=ts, pinnedBy=user_id, pinnedAt=pinned_at)
    try:
        item.save(condition=PinItem.PK.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def unpin(channel_id: str, ts: str) -> bool:
    """Unpins the message; False if it was not pinned."""
    try:
        PinItem(*pin_key(channel_id, ts)).delete(condition=PinItem.PK.exists())
    except DeleteError as error:
        if condition_failed(error):
            return False
        raise
    return True


def pins(channel_id: str) -> list[PinItem]:
    """Every pin of the channel, newest pin first (Slack caps a channel at 100 pins)."""
    found = PinItem.query(f"CH#{channel_id}", PinItem.SK.startswith("PIN#"))
    return sorted(found, key=lambda p: (p.pinnedAt, p.ts), reverse=True)
