"""typing: tells the channel's other members that the sender is typing (throttled)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import wiring
from parley.domain import presence
from parley.domain.caller import Caller
from parley.edge import websocket
from parley.edge.frames import TypingFrame
from parley.observability import REQUEST_ID, logger, metrics
from parley.wiring import configured


def _typing(caller: Caller, workspace_id: str, frame: TypingFrame) -> dict[str, Any]:
    sent = presence.typing(
        caller, workspace_id, frame.channelId, frame.threadTs, wiring.broadcaster()
    )
    return {"type": "ack", "ok": True, "sent": sent}


@logger.inject_lambda_context(correlation_id_path=REQUEST_ID, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    configured()
    return websocket.handle(event, TypingFrame, _typing)
