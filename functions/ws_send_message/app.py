"""sendMessage: stores the message, fans it out to the channel, acks the sender."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.domain import messages
from parley.edge import websocket, wiring
from parley.edge.wiring import configured
from parley.errors import ParleyError
from parley.observability import logger, metrics
from parley.schemas import SendMessageFrame


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    configured()
    reply = websocket.reply_to(event)
    try:
        caller, workspace_id = websocket.caller(event)
        frame = websocket.parse(event, SendMessageFrame)
        message, _ = messages.post_message(
            caller, frame.channelId, frame, wiring.broadcaster(), workspace_id=workspace_id
        )
    except ParleyError as error:
        return websocket.error(error, reply)
    return websocket.send({"type": "ack", "replyTo": reply, "ok": True, "message": message.wire()})
