"""$connect: registers the connection under its user and workspace (the authorizer vouched)."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import wiring
from parley.domain import connections, presence
from parley.edge import websocket
from parley.errors import Unauthorized
from parley.observability import REQUEST_ID, log_connection, logger, metrics
from parley.wiring import configured


@logger.inject_lambda_context(correlation_id_path=REQUEST_ID, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    log_connection(event)
    config = configured()
    try:
        caller, workspace_id = websocket.caller(event)
    except Unauthorized:
        return {"statusCode": 401}
    connection_id = event["requestContext"]["connectionId"]
    expires_at = int(time.time()) + config.connection_ttl_seconds
    connections.opened(connection_id, caller.user_id, workspace_id, expires_at)
    presence.signed_in(
        caller.user_id,
        workspace_id,
        wiring.broadcaster(),
        timeout_s=config.presence_timeout_seconds,
    )
    logger.info("connected", extra={"userId": caller.user_id, "workspaceId": workspace_id})
    return {"statusCode": 200}
