"""Incoming webhooks: an unguessable URL per channel that posts as an app's bot.

The token in the URL is the credential: stored only as its SHA-256, revocable by id. A post
through it is an ordinary message of the bot (Slack's subtype `bot_message`), delivered in
real time like any other. What the URL takes and answers is Slack's (parley.slack.webhooks).
"""

from __future__ import annotations

from parley.apps.credentials import HOOK_TOKEN_PREFIX, new_hook_token, token_hash
from parley.domain import access, channels, messages
from parley.domain.caller import Caller
from parley.domain.objects import Message
from parley.domain.ports import Publisher
from parley.domain.ports.apps import store as app_store
from parley.domain.ports.webhooks import store as webhook_store
from parley.domain.records import AppRecord, ChannelRecord, WebhookRecord, WebhookTokenRecord
from parley.edge.schemas import PostMessage, Webhook
from parley.errors import InvalidRequest, NotFound
from parley.ids import iso_now, new_id
from parley.observability import MetricUnit, metrics


def webhook_view(item: WebhookRecord) -> Webhook:
    return Webhook(
        id=item.hookId,
        channelId=item.channelId,
        appId=item.appId,
        createdBy=item.createdBy,
        createdAt=item.createdAt,
    )


def _channel_admin(caller: Caller, channel_id: str) -> ChannelRecord:
    """The channel, for a member of it who is an admin of its workspace."""
    channel, _ = access.channel_member(channel_id, caller.user_id)
    access.workspace_admin(channel.workspaceId, caller.user_id)
    return channel


def create_webhook(
    caller: Caller, channel_id: str, app_id: str | None, publisher: Publisher
) -> tuple[Webhook, str]:
    """A hook posting as the app's bot, and its token (shown this once).

    An admin in the channel names the app, whose bot then joins the channel (it posts as a
    member).
    """
    channel = _channel_admin(caller, channel_id)
    if app_id is None:
        raise InvalidRequest("appId is required: the app whose bot the webhook posts as")
    app = _app_in(channel.workspaceId, app_id)
    channels.add_members(caller, channel_id, [app.botUserId], publisher)
    token = new_hook_token()
    hook_id = new_id("H")
    hook = WebhookRecord(
        hookId=hook_id,
        appId=app.appId,
        workspaceId=channel.workspaceId,
        channelId=channel_id,
        botUserId=app.botUserId,
        tokenHash=token_hash(token),
        createdBy=caller.user_id,
        createdAt=iso_now(),
    )
    webhook_store.create_webhook(hook)
    return webhook_view(hook), token


def _app_in(workspace_id: str, app_id: str) -> AppRecord:
    app = app_store.get_app(app_id)
    if app is None or app.workspaceId != workspace_id:
        raise NotFound("app not found")
    return app


def list_webhooks(caller: Caller, channel_id: str) -> list[Webhook]:
    _channel_admin(caller, channel_id)
    return [webhook_view(item) for item in webhook_store.list_webhooks(channel_id)]


def revoke_webhook(caller: Caller, channel_id: str, hook_id: str) -> None:
    """The URL answers 404 from now on."""
    _channel_admin(caller, channel_id)
    hook = webhook_store.get_webhook(channel_id, hook_id)
    if hook is None:
        raise NotFound("webhook not found")
    webhook_store.delete_webhook(hook)


class NoSuchWebhook(NotFound):
    """The hook's URL is unknown or revoked, or its app was deleted."""


def find(token: str) -> WebhookTokenRecord:
    """The hook whose URL carries this token (one GetItem, two with its app's)."""
    hook = (
        webhook_store.by_token(token_hash(token)) if token.startswith(HOOK_TOKEN_PREFIX) else None
    )
    if hook is None or app_store.get_app(hook.appId) is None:
        raise NoSuchWebhook("no such webhook")
    return hook


def post(hook: WebhookTokenRecord, draft: PostMessage, publisher: Publisher) -> Message:
    """Posts as the hook's bot, a `bot_message` as Slack's webhooks post."""
    bot = Caller(user_id=hook.botUserId, app_id=hook.appId, workspace_id=hook.workspaceId)
    message, _ = messages.post_message(
        bot,
        hook.channelId,
        draft,
        publisher,
        workspace_id=hook.workspaceId,
        subtype="bot_message",
    )
    metrics.add_metric("WebhookMessage", MetricUnit.Count, 1)
    return message
