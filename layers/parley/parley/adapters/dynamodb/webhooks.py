"""Incoming webhooks: one item per hook in its channel's partition, one look-up item per
token hash; written and removed together."""

from __future__ import annotations

from parley.adapters.dynamodb.base import get_or_none, transaction
from parley.adapters.dynamodb.items import WebhookItem, WebhookTokenItem


def token_key(token_hash: str) -> tuple[str, str]:
    return f"HOOKTOKEN#{token_hash}", "HOOK"


def create_webhook(hook: WebhookItem) -> None:
    lookup = WebhookTokenItem(
        *token_key(hook.tokenHash),
        hookId=hook.hookId,
        appId=hook.appId,
        workspaceId=hook.workspaceId,
        channelId=hook.channelId,
        botUserId=hook.botUserId,
    )
    with transaction() as tx:
        tx.save(hook, condition=WebhookItem.PK.does_not_exist())
        tx.save(lookup, condition=WebhookTokenItem.PK.does_not_exist())


def by_token(token_hash: str) -> WebhookTokenItem | None:
    return get_or_none(WebhookTokenItem, *token_key(token_hash))


def get_webhook(channel_id: str, hook_id: str) -> WebhookItem | None:
    return get_or_none(WebhookItem, f"CH#{channel_id}", f"WEBHOOK#{hook_id}")


def list_webhooks(channel_id: str) -> list[WebhookItem]:
    return list(WebhookItem.query(f"CH#{channel_id}", WebhookItem.SK.startswith("WEBHOOK#")))


def delete_webhook(hook: WebhookItem) -> None:
    with transaction() as tx:
        tx.delete(hook)
        tx.delete(WebhookTokenItem(*token_key(hook.tokenHash)))
