"""The connections port: live WebSocket connections and who is behind them."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import ConnectionRecord


class ConnectionRepository(Protocol):
    def register(
        self,
        connection_id: str,
        user_id: str,
        workspace_id: str,
        connected_at: str,
        expires_at: int,
    ) -> None:
        """Records who is behind the connection, kept until `expires_at` (epoch seconds)
        unless touched, and adds it to the user's live set in the workspace."""

    def get_connection(self, connection_id: str) -> ConnectionRecord | None:
        """Who is behind the connection; None if it is unknown (forgotten or expired)."""

    def touch(self, connection_id: str, expires_at: int) -> bool:
        """Pushes the connection's expiry out to `expires_at`; False if it is unknown."""

    def forget(self, connection_id: str, user_id: str, workspace_id: str) -> None:
        """Removes the connection from the user's live set and deletes its record;
        idempotent."""

    def live_connections(self, workspace_id: str, user_ids: list[str]) -> dict[str, str]:
        """connection id -> user id for these users' live connections in the workspace
        (cost follows the users' live connections, or for a few users the users)."""

    def online_connections(self, workspace_id: str) -> dict[str, str]:
        """connection id -> user id for every live connection in the workspace (cost
        follows the workspace's live connections, not its members)."""


store: ConnectionRepository = port("connections")
