"""markRead: moves the caller's read marker in a channel, as POST /channels/{cid}/read."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import wiring
from parley.domain import reads
from parley.domain.caller import Caller
from parley.edge import websocket
from parley.edge.frames import MarkReadFrame
from parley.observability import REQUEST_ID, logger, metrics
from parley.wiring import configured


def _mark(caller: Caller, workspace_id: str, frame: MarkReadFrame) -> dict[str, Any]:
    reads.mark_channel(
        caller, frame.channelId, frame.ts, wiring.broadcaster(), workspace_id=workspace_id
    )
    return {"type": "ack", "ok": True}


@logger.inject_lambda_context(correlation_id_path=REQUEST_ID, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    configured()
    return websocket.handle(event, MarkReadFrame, _mark)
