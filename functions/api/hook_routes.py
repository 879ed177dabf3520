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
from parley.schemas import MessageReply

router = Router()


def hook_url(event: APIGatewayProxyEventV2, token: str) -> str:
    """The hook's URL on the API this request came through (API Gateway always sets
    X-Forwarded-Proto; the local gateway, plain HTTP, does not)."""
    proto = (event.headers or {}).get("x-forwarded-proto", "http")
    return f"{proto}://{event.request_context.domain_name}/hooks/{token}"


def _raw_body(event: APIGatewayProxyEventV2) -> bytes:
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("the body is not valid base64") from None


@router.post("/hooks/<token>", responses={201: {"description": "posted"}})
def post_via_webhook(token: str) -> Response[MessageReply]:
    # rate limit: bots. The per-app limiter (built on another branch) is called here, keyed
    # by the hook's app, before the payload is parsed.
    payload = webhooks.parse_payload(_raw_body(router.current_event))
    message = webhooks.post(token, payload, wiring.broadcaster())
    return Response(201, "application/json", MessageReply(message=message))
