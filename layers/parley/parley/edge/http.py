"""HTTP API framing: the caller that API Gateway's JWT authorizer already verified."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from parley.domain.caller import Caller
from parley.errors import Unauthorized


def token_caller(event: APIGatewayProxyEventV2) -> Caller:
    """The token's user, from the claims that API Gateway passes on."""
    claims = event.request_context.authorizer.jwt_claim or {}
    if not claims.get("sub"):
        raise Unauthorized("the token has no subject")
    return Caller.from_claims(claims)
