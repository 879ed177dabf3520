"""The webhooks port: incoming webhooks and their tokens."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import WebhookRecord, WebhookTokenRecord


class WebhookRepository(Protocol):
    """Incoming webhooks and their tokens."""

    def create_webhook(self, hook: WebhookRecord) -> None:
        """The hook and its token's look-up, together."""

    def by_token(self, token_hash: str) -> WebhookTokenRecord | None:
        """The hook a token's hash opens; None for an unknown or revoked one."""

    def get_webhook(self, channel_id: str, hook_id: str) -> WebhookRecord | None: ...

    def list_webhooks(self, channel_id: str) -> list[WebhookRecord]:
        """Every hook of the channel."""

    def delete_webhook(self, hook: WebhookRecord) -> None:
        """The hook and its token's look-up go together."""


store: WebhookRepository = port("webhooks")
