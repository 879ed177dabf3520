"""The pins port: pinned messages."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import PinRecord


class PinRepository(Protocol):
    def pin(self, channel_id: str, ts: str, user_id: str, pinned_at: str) -> bool:
        """Pins the message; False if it was pinned already."""

    def unpin(self, channel_id: str, ts: str) -> bool:
        """Unpins the message; False if it was not pinned."""

    def pins(self, channel_id: str) -> list[PinRecord]:
        """Every pin of the channel, newest pin first."""


store: PinRepository = port("pins")
