"""ping: answers pong and pushes the connection's expiry out (a sign of life)."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import wiring
from parley.domain import connections, presence
from parley.edge import websocket
from parley.observability import REQUEST_ID, log_connection, logger, metrics
from parley.wiring import configured


@logger.inject_lambda_context(correlation_id_path=REQUEST_ID, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    log_connection(event)
    config = configured()
    connection_id = event["requestContext"]["connectionId"]
    if connections.kept_alive(connection_id, int(time.time()) + config.connection_ttl_seconds):
        caller, workspace_id = websocket.caller(event)
        presence.signed_in(
            caller.user_id,
            workspace_id,
            wiring.broadcaster(),
            timeout_s=config.presence_timeout_seconds,
        )
    return websocket.send({"type": "pong", "replyTo": websocket.reply_to(event)})
