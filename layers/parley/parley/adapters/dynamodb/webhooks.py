"""Incoming webhooks: one item per hook in its channel's partition, one look-up item per
token hash; written and removed together."""

from __future__ import annotations

from parley.adapters.dynamodb.base import get_or_none, transaction
from parley.adapters.dynamodb.items import WebhookItem, WebhookTokenItem
from parley.adapters.dynamodb.records import to_item, to_record
from parley.domain.records import WebhookRecord, WebhookTokenRecord


def webhook_key(channel_id: str, hook_id: str) -> tuple[str, str]:
    return f"CH#{channel_id}", f"WEBHOOK#{hook_id}"


def token_key(token_hash: str) -> tuple[str, str]:
    return f"HOOKTOKEN#{token_hash}", "HOOK"


def create_webhook(hook: WebhookRecord) -> None:
    lookup = WebhookTokenItem(
        *token_key(hook.tokenHash),
        hookId=hook.hookId,
        appId=hook.appId,
        workspaceId=hook.workspaceId,
        channelId=hook.channelId,
        botUserId=hook.botUserId,
    )
    with transaction() as tx:
        tx.save(
            to_item(hook, WebhookItem, *webhook_key(hook.channelId, hook.hookId)),
            condition=WebhookItem.PK.does_not_exist(),
        )
        tx.save(lookup, condition=WebhookTokenItem.PK.does_not_exist())


def by_token(token_hash: str) -> WebhookTokenRecord | None:
    item = get_or_none(WebhookTokenItem, *token_key(token_hash))
    return to_record(item, WebhookTokenRecord) if item is not None else None


def get_webhook(channel_id: str, hook_id: str) -> WebhookRecord | None:
    item = get_or_none(WebhookItem, *webhook_key(channel_id, hook_id))
    return to_record(item, WebhookRecord) if item is not None else None


def list_webhooks(channel_id: str) -> list[WebhookRecord]:
    found = WebhookItem.query(f"CH#{channel_id}", WebhookItem.SK.startswith("WEBHOOK#"))
    return [to_record(item, WebhookRecord) for item in found]


def delete_webhook(hook: WebhookRecord) -> None:
    with transaction() as tx:
        tx.delete(WebhookItem(*webhook_key(hook.channelId, hook.hookId)))
        tx.delete(WebhookTokenItem(*token_key(hook.tokenHash)))
