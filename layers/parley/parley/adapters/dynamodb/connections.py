"""WebSocket connections: who is behind each one, and each user's live set per workspace."""

from __future__ import annotations

from parley.adapters.dynamodb.base import batch_get, conditional, epoch, get_or_none
from parley.adapters.dynamodb.items import ConnectionItem, UserConnectionsItem
from parley.adapters.dynamodb.records import to_record
from parley.domain.records import ConnectionRecord


def connection_key(connection_id: str) -> tuple[str, str]:
    return f"CONN#{connection_id}", "CONN"


def user_connections_key(user_id: str, workspace_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", f"CONNS#{workspace_id}"


def register(
    connection_id: str, user_id: str, workspace_id: str, connected_at: str, expires_at: int
) -> None:
    ConnectionItem(
        *connection_key(connection_id),
        connectionId=connection_id,
        userId=user_id,
        workspaceId=workspace_id,
        connectedAt=connected_at,
        ttl=epoch(expires_at),
    ).save()
    UserConnectionsItem(*user_connections_key(user_id, workspace_id)).update(
        actions=[UserConnectionsItem.conns.add({connection_id})]
    )


def get_connection(connection_id: str) -> ConnectionRecord | None:
    item = get_or_none(ConnectionItem, *connection_key(connection_id))
    return to_record(item, ConnectionRecord) if item is not None else None


def touch(connection_id: str, expires_at: int) -> bool:
    """Pushes the record's expiry out; False if the connection is unknown (already gone)."""
    return conditional(
        lambda: ConnectionItem(*connection_key(connection_id)).update(
            actions=[ConnectionItem.ttl.set(epoch(expires_at))],
            condition=ConnectionItem.PK.exists(),
        )
    )


def forget(connection_id: str, user_id: str, workspace_id: str) -> None:
    """Removes the connection from the user's live set and deletes its record; idempotent."""
    UserConnectionsItem(*user_connections_key(user_id, workspace_id)).update(
        actions=[UserConnectionsItem.conns.delete({connection_id})]
    )
    ConnectionItem(*connection_key(connection_id)).delete()


def live_connections(workspace_id: str, user_ids: list[str]) -> dict[str, str]:
    """connection id -> user id for these users' live connections in the workspace.

    One BatchGetItem per 100 users; cost follows the audience, never the whole workspace.
    """
    items = batch_get(
        UserConnectionsItem, [user_connections_key(u, workspace_id) for u in user_ids]
    )
    return {conn: item.PK.removeprefix("USER#") for item in items for conn in item.conns or ()}
