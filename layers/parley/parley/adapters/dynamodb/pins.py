"""Pinned messages of a channel."""

from __future__ import annotations

from parley.adapters.dynamodb.base import conditional
from parley.adapters.dynamodb.items import PinItem
from parley.domain.records import PinRecord


def pin_key(channel_id: str, ts: str) -> tuple[str, str]:
    return f"CH#{channel_id}", f"PIN#{ts}"


def pin(channel_id: str, ts: str, user_id: str, pinned_at: str) -> bool:
    """Pins the message; False if it was pinned already."""
    item = PinItem(*pin_key(channel_id, ts), ts=ts, pinnedBy=user_id, pinnedAt=pinned_at)
    return conditional(lambda: item.save(condition=PinItem.PK.does_not_exist()))


def unpin(channel_id: str, ts: str) -> bool:
    """Unpins the message; False if it was not pinned."""
    return conditional(
        lambda: PinItem(*pin_key(channel_id, ts)).delete(condition=PinItem.PK.exists())
    )


def pins(channel_id: str) -> list[PinRecord]:
    """Every pin of the channel, newest pin first (Slack caps a channel at 100 pins)."""
    found = PinItem.query(f"CH#{channel_id}", PinItem.SK.startswith("PIN#"))
    return [
        PinRecord(channelId=channel_id, ts=p.ts, pinnedBy=p.pinnedBy, pinnedAt=p.pinnedAt)
        for p in sorted(found, key=lambda p: (p.pinnedAt, p.ts), reverse=True)
    ]
