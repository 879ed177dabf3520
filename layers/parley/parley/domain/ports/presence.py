"""The presence port: heartbeats, announced presence, presence subscriptions and typing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from parley.domain.ports import port


@dataclass(frozen=True)
class ExpiredHeartbeat:
    """A user's last sign of life in a workspace, which has expired."""

    user_id: str
    workspace_id: str
    last_seen: int  # epoch seconds


class PresenceRepository(Protocol):
    def seen(self, user_id: str, workspace_id: str, now: int, timeout_s: int) -> None:
        """Records a sign of life at `now` (epoch seconds), expiring `timeout_s` later."""

    def expired(self, now: int, lookback_minutes: int) -> Iterator[ExpiredHeartbeat]:
        """Heartbeats that expired by `now` within the last `lookback_minutes` and whose
        expiry is not claimed yet; the cost follows those alone."""

    def claim_expiry(self, heartbeat: ExpiredHeartbeat) -> bool:
        """Records `away` as announced if no sign of life came since; True if `away` is
        news to announce (False: a later sign of life, or away was announced already)."""

    def announce(self, user_id: str, workspace_id: str, status: str) -> bool:
        """Records `status` as announced; False if it already was (nothing to tell)."""

    def set_manual_away(self, user_id: str, away: bool) -> None:
        """Sets or clears the user's manual away, which holds in every workspace."""

    def records(self, user_ids: list[str], workspace_id: str) -> dict[str, tuple[int, bool]]:
        """user id -> (last sign of life in the workspace, 0 for none; manual away)."""

    def subscribe(
        self,
        connection_id: str,
        watcher_id: str,
        workspace_id: str,
        user_ids: list[str],
        expires_at: int,
    ) -> bool:
        """Replaces the connection's presence subscriptions with `user_ids`, kept until
        `expires_at` (epoch seconds); False if the connection is unknown."""

    def watchers(self, user_id: str, workspace_id: str) -> dict[str, str]:
        """connection id -> its user, for the connections watching the user's presence."""

    def may_type(self, channel_id: str, user_id: str, now_ms: int, interval_ms: int) -> bool:
        """Claims the user's next typing event in the channel; False if the last one went
        out less than `interval_ms` before `now_ms`."""


store: PresenceRepository = port("presence")
