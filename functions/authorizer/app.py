"""$connect authorizer: a valid Cognito JWT in ?token= and membership of ?workspaceId=.

API Gateway answers 401 when this raises "Unauthorized" and 403 on a Deny policy; on Allow,
the policy's context (userId, workspaceId) reaches every route of the connection.
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.adapters.cognito import InvalidToken, Jwks, TokenVerifier
from parley.domain import access
from parley.observability import REQUEST_ID, log_connection, logger, metrics
from parley.wiring import configured


@functools.cache
def _verifier() -> TokenVerifier:
    config = configured()
    if not (config.jwks_url and config.jwt_issuer and config.jwt_audience):
        raise RuntimeError("JWKS_URL, JWT_ISSUER and JWT_AUDIENCE must be set")
    return TokenVerifier(config.jwt_issuer, (config.jwt_audience,), Jwks(config.jwks_url))


def _policy(principal: str, effect: str, resource: str, context: dict[str, str]) -> dict[str, Any]:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": context,
    }


@logger.inject_lambda_context(correlation_id_path=REQUEST_ID, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    log_connection(event)  # the connection only: the token in the query is never logged
    query = event.get("queryStringParameters") or {}
    try:
        claims = _verifier().verify(query.get("token"))
        user_id = claims.get("sub")
        if not isinstance(user_id, str) or not user_id:
            raise InvalidToken("the token has no subject")
    except InvalidToken as error:
        logger.info("refused connection: bad token", extra={"reason": str(error)})
        raise Exception("Unauthorized") from None  # API Gateway's contract for a 401
    workspace_id = query.get("workspaceId") or ""
    logger.append_keys(userId=user_id, workspaceId=workspace_id or None)
    resource = event.get("methodArn", "*")
    if not workspace_id or not access.is_member(workspace_id, user_id):
        logger.info("refused connection: not a member", extra={"userId": user_id})
        return _policy(user_id, "Deny", resource, {})
    return _policy(user_id, "Allow", resource, {"userId": user_id, "workspaceId": workspace_id})
