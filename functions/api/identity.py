"""Who is calling: a user (the JWT authorizer's claims) or an app's bot (its bearer token)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from parley.domain import apps
from parley.domain.caller import Caller
from parley.errors import Unauthorized
from parley.observability import logger


def user_caller(event: APIGatewayProxyEventV2) -> Caller:
    """The token's user (API Gateway's JWT authorizer already checked the token)."""
    claims = event.request_context.authorizer.jwt_claim or {}
    if not claims.get("sub"):
        raise Unauthorized("the token has no subject")
    return Caller.from_claims(claims)


def bot_caller(event: APIGatewayProxyEventV2, scope: str) -> Caller:
    """The bot whose token is the bearer, if the token has `scope` (401 / 403 otherwise).

    Bot routes have no gateway authorizer: the token is checked here, against the table,
    so a revoked token stops working at once (docs/decisions.md, 2026-11-28).
    """
    header = (event.headers or {}).get("authorization") or ""
    token = header[7:].strip() if header[:7].lower() == "bearer " else header.strip()
    caller = apps.authenticate(token)
    logger.append_keys(userId=caller.user_id, appId=caller.app_id)
    apps.require_scope(caller, scope)
    return caller
