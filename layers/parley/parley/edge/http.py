"""HTTP API framing: the caller that API Gateway's JWT authorizer already verified."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import ValidationError

from parley.domain.caller import Caller
from parley.errors import Unauthorized


def token_caller(event: APIGatewayProxyEventV2) -> Caller:
    """The token's user, from the claims that API Gateway passes on."""
    claims = event.request_context.authorizer.jwt_claim or {}
    if not claims.get("sub"):
        raise Unauthorized("the token has no subject")
    return Caller.from_claims(claims)


def describe(error: ValidationError) -> str:
    """The first five problems of a body, `where: what` (the WebSocket frames word theirs so)."""
    problems = []
    for item in error.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "body"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)
