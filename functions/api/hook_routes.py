"""POST /hooks/{token}: an incoming webhook posts into its channel as its app's bot, and
takes and answers what Slack's do (parley.slack.webhooks): `ok` as text/plain, or Slack's
error text with a 4xx.

No gateway authorizer: the token in the URL is the credential, checked by its hash.
"""

from __future__ import annotations

import base64
import binascii

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from pydantic import ValidationError

from parley import wiring
from parley.domain import webhooks
from parley.edge.schemas import SlackMessagePayload
from parley.errors import ParleyError
from parley.slack import webhooks as slack_webhooks
from parley.slack.webhooks import Refusal

router = Router()


def api_url(event: APIGatewayProxyEventV2) -> str:
    """The base URL of the API this request came through (API Gateway always sets
    X-Forwarded-Proto; the local gateway, plain HTTP, does not)."""
    proto = (event.headers or {}).get("x-forwarded-proto", "http")
    return f"{proto}://{event.request_context.domain_name}"


def hook_url(event: APIGatewayProxyEventV2, token: str) -> str:
    return f"{api_url(event)}/hooks/{token}"


def raw_body(event: BaseProxyEvent) -> bytes:
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise Refusal(400, "invalid_payload") from None


def media_type(event: BaseProxyEvent) -> str:
    """The body's media type, lowercased, without parameters (`;charset=utf-8`)."""
    return (event.headers or {}).get("content-type", "").split(";")[0].strip().lower()


def slack_text(description: str) -> OpenAPIResponse:
    """An OpenAPI reply whose body is one of Slack's plain-text answers."""
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


@router.post(
    "/hooks/<token>",
    summary="Post through an incoming webhook (Slack's payload: text, blocks, thread_ts)",
    responses={
        200: slack_text("posted: `ok`"),
        400: slack_text("`invalid_payload`, `invalid_blocks`, `no_text` or `msg_too_long`"),
        403: slack_text("`action_prohibited`: the hook's bot may not post there"),
        404: slack_text("`no_service` (no such hook), `channel_not_found`, `thread_not_found`"),
        413: slack_text("`invalid_payload`: the body is over 512 KB"),
        429: slack_text("`rate_limited`: the hook's bot posts too fast (see Retry-After)"),
    },
)
def post_via_webhook(token: str) -> Response[str]:
    # Rate limited as the hook's bot posting in its channel (domain.ratelimits, bots' limit).
    event = router.current_event
    try:
        hook = webhooks.find(token)
        payload = slack_webhooks.read(raw_body(event), media_type(event), SlackMessagePayload)
        webhooks.post(hook, payload.draft(), wiring.broadcaster())
    except (ParleyError, ValidationError, Refusal) as error:
        refused = slack_webhooks.refusal(error)
        return Response(refused.status, "text/plain", refused.error, headers=refused.headers)
    return Response(200, "text/plain", "ok")
