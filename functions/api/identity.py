"""Who is calling as an app's bot (its bearer token); users come from
`parley.edge.http.token_caller` (the JWT authorizer's claims)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from parley.domain import apps
from parley.domain.caller import Caller
from parley.observability import logger


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
