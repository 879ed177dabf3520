"""WebSocket connections: who is behind each one, each user's live set per workspace, and
the workspace's index of who is online (the live sets that hold a connection, in GSI1).

An audience's connections come from one of two reads (`live_connections`), whichever
follows the audience's live connections rather than its member count:

- the member list: one BatchGetItem per 100 members, half a read unit each, whether online
  or not. For a channel of M members: ⌈M/100⌉ requests, flat in the workspace's size.
- the online index: one Query per 1 MB of the workspace's online users (about 6,000 a
  page, some 40 to a read unit), each with its connection ids. For an audience of
  `INDEX_AUDIENCE` members or more, and for the whole workspace (`online_connections`).

The index lags the table by the index's propagation (about a second); a connection made in
that second misses what the index path delivers, as any dropped socket does, and catches up
from history.
"""

from __future__ import annotations

from parley.adapters.dynamodb.base import batch_get, conditional, epoch, get_or_none
from parley.adapters.dynamodb.items import ConnectionItem, UserConnectionsItem
from parley.adapters.dynamodb.records import to_record
from parley.domain.records import ConnectionRecord

# From this many members an audience's connections are read from the online index: the
# member list would cost half a read unit per member, online or not.
INDEX_AUDIENCE = 1000


def online_key(workspace_id: str, user_id: str) -> tuple[str, str]:
    return f"ONLINE#{workspace_id}", f"USER#{user_id}"


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
    online_pk, online_sk = online_key(workspace_id, user_id)
    UserConnectionsItem(*user_connections_key(user_id, workspace_id)).update(
        actions=[
            UserConnectionsItem.conns.add({connection_id}),
            UserConnectionsItem.GSI1PK.set(online_pk),
            UserConnectionsItem.GSI1SK.set(online_sk),
        ]
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
    """Removes the connection from the user's live set (and the user from the online index
    with the last one) and deletes its record; idempotent."""
    live = UserConnectionsItem(*user_connections_key(user_id, workspace_id))
    live.update(actions=[UserConnectionsItem.conns.delete({connection_id})])
    if not live.conns:  # the update read back what is left: nothing
        conditional(
            lambda: live.update(
                actions=[UserConnectionsItem.GSI1PK.remove(), UserConnectionsItem.GSI1SK.remove()],
                condition=UserConnectionsItem.conns.does_not_exist()
                & UserConnectionsItem.GSI1PK.exists(),
            )
        )
    ConnectionItem(*connection_key(connection_id)).delete()


def live_connections(workspace_id: str, user_ids: list[str]) -> dict[str, str]:
    """connection id -> user id for these users' live connections in the workspace: from
    the member list below `INDEX_AUDIENCE` users, else from the online index (module
    docstring)."""
    if len(user_ids) >= INDEX_AUDIENCE:
        audience = set(user_ids)
        return {c: u for c, u in online_connections(workspace_id).items() if u in audience}
    items = batch_get(
        UserConnectionsItem, [user_connections_key(u, workspace_id) for u in user_ids]
    )
    return {conn: item.PK.removeprefix("USER#") for item in items for conn in item.conns or ()}


def online_connections(workspace_id: str) -> dict[str, str]:
    """connection id -> user id for every live connection in the workspace, from the online
    index: one Query per 1 MB page, never a read of the workspace's members."""
    query = UserConnectionsItem.gsi1.query(
        f"ONLINE#{workspace_id}", UserConnectionsItem.GSI1SK.startswith("USER#")
    )
    return {conn: item.GSI1SK.removeprefix("USER#") for item in query for conn in item.conns or ()}
