"""The port through which domain code announces events (parley.adapters.fanout.Broadcaster)."""

from __future__ import annotations

from typing import Any, Protocol

from parley.adapters.fanout import Delivery


class Publisher(Protocol):
    def to_channel(
        self, workspace_id: str, channel_id: str, event: dict[str, Any], exclude: str | None = None
    ) -> Delivery: ...

    def to_channel_each(
        self, workspace_id: str, channel_id: str, events: list[dict[str, Any]]
    ) -> None: ...

    def to_users(
        self,
        workspace_id: str,
        user_ids: list[str],
        event: dict[str, Any],
        exclude: str | None = None,
    ) -> Delivery: ...

    def to_workspace(self, workspace_id: str, event: dict[str, Any]) -> object: ...

    def to_connections(
        self, workspace_id: str, targets: dict[str, str], event: dict[str, Any]
    ) -> Delivery: ...
