"""Fan-out: deliver one event to every live connection of an audience, in the request path.

Cost per event: the audience's member ids (one Query per ~8,000 members), their connection
sets (one BatchGetItem per 100 members) and one POST per live connection, made concurrently.
Nothing here grows with connections outside the audience. Delivery is best effort: the
table is the truth, and a client that reconnects catches up from history.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from parley.adapters.dynamodb import channels as channel_store
from parley.adapters.dynamodb import connections as connection_store
from parley.domain.ports import Delivery
from parley.observability import MetricUnit, logger, metrics


class Poster(Protocol):
    def post(self, connection_id: str, data: bytes) -> bool: ...


class Broadcaster:
    """Sends events to users' live connections in one workspace and prunes the dead ones."""

    def __init__(self, poster: Poster, max_workers: int = 32) -> None:
        self._poster = poster
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="fanout")

    def to_channel(
        self, workspace_id: str, channel_id: str, event: dict[str, Any], exclude: str | None = None
    ) -> Delivery:
        return self.to_users(workspace_id, channel_store.member_ids(channel_id), event, exclude)

    def to_channel_each(
        self, workspace_id: str, channel_id: str, events: list[dict[str, Any]]
    ) -> None:
        """Several events to one channel: its members and their connections are looked up
        once for all of them (a bulk add announces each new member this way)."""
        if not events:
            return
        members = channel_store.member_ids(channel_id)
        targets = connection_store.live_connections(workspace_id, members)
        for event in events:
            self.to_connections(workspace_id, targets, event)

    def to_workspace(self, workspace_id: str, event: dict[str, Any]) -> Delivery:
        """Everyone online in the workspace, from its online index (no member is read)."""
        return self.to_connections(
            workspace_id, connection_store.online_connections(workspace_id), event
        )

    def to_users(
        self,
        workspace_id: str,
        user_ids: list[str],
        event: dict[str, Any],
        exclude: str | None = None,
    ) -> Delivery:
        targets = connection_store.live_connections(workspace_id, user_ids)
        targets.pop(exclude or "", None)
        return self.to_connections(workspace_id, targets, event)

    def to_connections(
        self, workspace_id: str, targets: dict[str, str], event: dict[str, Any]
    ) -> Delivery:
        """Posts to every target concurrently; `targets` maps connection id to user id."""
        delivery = Delivery()
        if not targets:
            return delivery
        data = json.dumps(event, separators=(",", ":")).encode()
        outcomes = self._pool.map(lambda conn: self._post(conn, data), targets)
        for conn, outcome in zip(targets, outcomes, strict=True):
            if outcome is True:
                delivery.delivered += 1
                delivery.reached.add(targets[conn])
            elif outcome is False:
                delivery.pruned.append(conn)
                connection_store.forget(conn, targets[conn], workspace_id)
            else:
                delivery.failed += 1
        metrics.add_metric("EventsDelivered", MetricUnit.Count, delivery.delivered)
        if delivery.pruned:
            metrics.add_metric("ConnectionsPruned", MetricUnit.Count, len(delivery.pruned))
            logger.info("pruned gone connections", extra={"count": len(delivery.pruned)})
        if delivery.failed:
            # Neither delivered nor gone after the poster's retries (403, 413, throttled):
            # the alarm on it says real-time delivery is failing.
            metrics.add_metric("ConnectionPostsFailed", MetricUnit.Count, delivery.failed)
        return delivery

    def _post(self, connection_id: str, data: bytes) -> bool | None:
        """True delivered, False gone, None failed otherwise (logged; best effort)."""
        try:
            return self._poster.post(connection_id, data)
        except Exception:
            logger.exception("post to connection failed", extra={"connectionId": connection_id})
            return None
