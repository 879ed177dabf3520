"""subscribePresence: this connection gets presence_change for these users (replacing the
previous list); the reply carries their current presence."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.domain import presence
from parley.domain.caller import Caller
from parley.edge import websocket
from parley.edge.frames import SubscribePresenceFrame
from parley.observability import REQUEST_ID, logger, metrics
from parley.wiring import configured


def _subscribe(caller: Caller, workspace_id: str, frame: SubscribePresenceFrame) -> dict[str, Any]:
    config = configured()
    expires_at = int(time.time()) + config.connection_ttl_seconds
    current = presence.subscribe(
        caller, workspace_id, frame.userIds, expires_at, timeout_s=config.presence_timeout_seconds
    )
    return {"type": "ack", "ok": True, "presence": current}


@logger.inject_lambda_context(correlation_id_path=REQUEST_ID, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    configured()
    return websocket.handle(event, SubscribePresenceFrame, _subscribe)
