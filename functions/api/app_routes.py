"""Apps, managed by workspace admins: create (token and signing secret shown once), list,
delete, rotate or revoke the bot token; and the channels' incoming webhooks."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from hook_routes import hook_url

from parley import wiring
from parley.domain import apps, webhooks
from parley.edge.http import token_caller
from parley.edge.schemas import (
    AppCreated,
    AppReply,
    AppsReply,
    BotTokenReply,
    CreateApp,
    CreateWebhook,
    UpdateApp,
    WebhookCreated,
    WebhooksReply,
)
from parley.wiring import configured

router = Router()


def _no_content() -> Response[Any]:
    return Response(status_code=204)


@router.post("/workspaces/<wid>/apps", responses={201: {"description": "created"}})
def create_app(wid: str, body: CreateApp) -> Response[AppCreated]:
    allow_private = configured().allow_private_app_urls
    created = apps.create_app(
        token_caller(router.current_event), wid, body, allow_private=allow_private
    )
    return Response(status_code=201, content_type="application/json", body=created)


@router.get("/workspaces/<wid>/apps")
def list_apps(wid: str) -> AppsReply:
    return AppsReply(apps=apps.list_apps(token_caller(router.current_event), wid))


@router.delete("/apps/<appId>", responses={204: {"description": "deleted"}})
def delete_app(appId: str) -> Response[None]:
    apps.delete_app(token_caller(router.current_event), appId)
    return _no_content()


@router.patch("/apps/<appId>")
def update_app(appId: str, body: UpdateApp) -> AppReply:
    config = configured()
    app = apps.update_app(
        token_caller(router.current_event),
        appId,
        body,
        wiring.http_poster(config),
        allow_private=config.allow_private_app_urls,
    )
    return AppReply(app=app)


@router.post("/apps/<appId>/token/rotate")
def rotate_token(appId: str) -> BotTokenReply:
    return BotTokenReply(botToken=apps.rotate_token(token_caller(router.current_event), appId))


@router.post("/apps/<appId>/events/resume")
def resume_events(appId: str) -> AppReply:
    return AppReply(app=apps.resume_events(token_caller(router.current_event), appId))


@router.delete("/apps/<appId>/token", responses={204: {"description": "revoked"}})
def revoke_token(appId: str) -> Response[None]:
    apps.revoke_token(token_caller(router.current_event), appId)
    return _no_content()


@router.post("/channels/<cid>/webhooks", responses={201: {"description": "created"}})
def create_webhook(cid: str, body: CreateWebhook) -> Response[WebhookCreated]:
    event = router.current_event
    hook, token = webhooks.create_webhook(
        token_caller(event), cid, body.appId, wiring.broadcaster()
    )
    created = WebhookCreated(webhook=hook, url=hook_url(event, token))
    return Response(status_code=201, content_type="application/json", body=created)


@router.get("/channels/<cid>/webhooks")
def list_webhooks(cid: str) -> WebhooksReply:
    return WebhooksReply(webhooks=webhooks.list_webhooks(token_caller(router.current_event), cid))


@router.delete("/channels/<cid>/webhooks/<hookId>", responses={204: {"description": "revoked"}})
def revoke_webhook(cid: str, hookId: str) -> Response[None]:
    webhooks.revoke_webhook(token_caller(router.current_event), cid, hookId)
    return _no_content()
