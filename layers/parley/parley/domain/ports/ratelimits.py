"""The ratelimits port: per sender and channel send rates."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port


class RateLimitRepository(Protocol):
    def admit(
        self,
        user_id: str,
        channel_id: str,
        *,
        burst: int,
        per_second: float,
        now: float,
        count: int = 1,
    ) -> bool:
        """Counts `count` messages of the sender in the channel if they fit `burst`
        messages and then `per_second`; False (nothing counted) if they do not."""


store: RateLimitRepository = port("ratelimits")
