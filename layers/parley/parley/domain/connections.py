"""WebSocket connections: who is behind each one while it is open.

The $connect, ping and $disconnect functions come here for the connection itself; what
each means for the user's presence is `parley.domain.presence`'s, which they call next.
"""

from __future__ import annotations

from parley.domain.ports.connections import store as connection_store
from parley.domain.records import ConnectionRecord
from parley.ids import iso_now


def opened(connection_id: str, user_id: str, workspace_id: str, expires_at: int) -> None:
    """Registers the connection under its user and workspace (the authorizer vouched for
    both), kept until `expires_at` (epoch seconds) unless a ping pushes that out."""
    connection_store.register(connection_id, user_id, workspace_id, iso_now(), expires_at)


def kept_alive(connection_id: str, expires_at: int) -> bool:
    """Pushes the connection's expiry out to `expires_at`; False if it is already gone."""
    return connection_store.touch(connection_id, expires_at)


def closed(connection_id: str) -> ConnectionRecord | None:
    """Forgets the connection; who was behind it, or None if it was unknown (forgotten
    already: a repeated $disconnect, or pruned after a post found it gone)."""
    connection = connection_store.get_connection(connection_id)
    if connection is not None:
        connection_store.forget(connection_id, connection.userId, connection.workspaceId)
    return connection
