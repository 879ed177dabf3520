"""POST /hooks/{token}: an incoming webhook posts into its channel as its app's bot.

No gateway authorizer: the token in the URL is the credential, checked by its hash.
"""

from __future__ import annotations

import base64
import binascii

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from parley.domain import webhooks
from parley.edge import wiring
from parley.errors import InvalidRequest
from parley.schemas import MessageReply, PostMessage

router = Router()


def api_url(event: APIGatewayProxyEventV2) -> str:
    """The base URL of the API this request came through (API Gateway always sets
    X-Forwarded-Proto; the local gateway, plain HTTP, does not)."""
    proto = (event.headers or {}).get("x-forwarded-proto", "http")
    return f"{proto}://{event.request_context.domain_name}"


def hook_url(event: APIGatewayProxyEventV2, token: str) -> str:
    return f"{api_url(event)}/hooks/{token}"


def raw_body(event: APIGatewayProxyEventV2) -> bytes:
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("the body is not valid base64") from None


@router.post("/hooks/<token>", responses={201: {"description": "posted"}})
def post_via_webhook(token: str) -> Response[MessageReply]:
    # Rate limited as the hook's bot posting in its channel (domain.ratelimits, bots' limit).
    payload = webhooks.parse_payload(raw_body(router.current_event), PostMessage)
    message = webhooks.post(token, payload, wiring.broadcaster())
    return Response(201, "application/json", MessageReply(message=message))
