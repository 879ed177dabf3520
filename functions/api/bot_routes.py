"""The routes an app's bot may call with its token (`Authorization: Bearer pxb-...`).

They mirror the user routes under `/bot`: API Gateway gives a route one authorizer, and the
user routes keep the Cognito JWT authorizer, while these have none at the gateway and check
the bot token against the table (docs/decisions.md, 2026-11-28). Each needs one scope (403
naming it otherwise); a bot sees only the channels it was added to.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from hook_routes import hook_url
from identity import bot_caller
from params import Cursor, Limit, TsQuery

from parley.domain import channels, messages, reactions, webhooks
from parley.domain.caller import Caller
from parley.edge import wiring
from parley.schemas import (
    ChannelsReply,
    MessageReply,
    MessagesReply,
    PostMessage,
    WebhookCreated,
)
from parley.store.base import offset_page

router = Router()


def _bot(scope: str) -> Caller:
    # rate limit: bots. The per-app limiter (built on another branch) is called here, once
    # the caller is known and before any work, for every bot route.
    return bot_caller(router.current_event, scope)


@router.get("/bot/channels")
def list_channels(limit: Limit = 50, cursor: Cursor = None) -> ChannelsReply:
    bot = _bot("channels:read")
    # A bot token always names its workspace; without one, no workspace is found (404).
    found = channels.list_channels(bot, bot.workspace_id or "")
    page, next_cursor = offset_page(found, limit, cursor)
    return ChannelsReply(channels=page, nextCursor=next_cursor)


@router.get("/bot/channels/<cid>/messages")
def list_messages(
    cid: str,
    oldest: TsQuery = None,
    latest: TsQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MessagesReply:
    found, next_cursor = messages.list_messages(
        _bot("channels:history"), cid, oldest=oldest, latest=latest, limit=limit, cursor=cursor
    )
    return MessagesReply(messages=found, nextCursor=next_cursor)


@router.get("/bot/channels/<cid>/messages/<ts>/replies")
def list_replies(cid: str, ts: str, limit: Limit = 50, cursor: Cursor = None) -> MessagesReply:
    found, next_cursor = messages.list_replies(_bot("channels:history"), cid, ts, limit, cursor)
    return MessagesReply(messages=found, nextCursor=next_cursor)


@router.post("/bot/channels/<cid>/messages", responses={201: {"description": "created"}})
def post_message(cid: str, body: PostMessage) -> Response[MessageReply]:
    bot = _bot("chat:write")
    message, created = messages.post_message(
        bot, cid, body, wiring.broadcaster(), workspace_id=bot.workspace_id
    )
    return Response(201 if created else 200, "application/json", MessageReply(message=message))


@router.put("/bot/channels/<cid>/messages/<ts>/reactions/<name>")
def add_reaction(cid: str, ts: str, name: str) -> MessageReply:
    bot = _bot("reactions:write")
    return MessageReply(message=reactions.react(bot, cid, ts, name, wiring.broadcaster(), add=True))


@router.delete("/bot/channels/<cid>/messages/<ts>/reactions/<name>")
def remove_reaction(cid: str, ts: str, name: str) -> MessageReply:
    bot = _bot("reactions:write")
    message = reactions.react(bot, cid, ts, name, wiring.broadcaster(), add=False)
    return MessageReply(message=message)


@router.post("/bot/channels/<cid>/webhooks", responses={201: {"description": "created"}})
def create_webhook(cid: str) -> Response[WebhookCreated]:
    """A webhook posting as this bot, into a channel it is in."""
    bot = _bot("chat:write")
    hook, token = webhooks.create_webhook(bot, cid, None, wiring.broadcaster())
    created = WebhookCreated(webhook=hook, url=hook_url(router.current_event, token))
    return Response(201, "application/json", created)
