"""sendMessage: stores the message, fans it out to the channel, acks the sender."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.domain import messages
from parley.domain.caller import Caller
from parley.edge import websocket, wiring
from parley.edge.frames import SendMessageFrame
from parley.edge.wiring import configured
from parley.observability import logger, metrics


def _send(caller: Caller, workspace_id: str, frame: SendMessageFrame) -> dict[str, Any]:
    message, _ = messages.post_message(
        caller, frame.channelId, frame, wiring.broadcaster(), workspace_id=workspace_id
    )
    return {"type": "ack", "ok": True, "message": message.wire()}


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    configured()
    return websocket.handle(event, SendMessageFrame, _send)
