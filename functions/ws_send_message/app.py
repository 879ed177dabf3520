"""sendMessage: stores the message, fans it out to the channel, acks the sender; a slash
command (`/name args`) goes to its app instead, and the ack says what became of it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import wiring
from parley.domain import messages
from parley.domain.caller import Caller
from parley.edge import websocket
from parley.edge.frames import SendMessageFrame
from parley.observability import REQUEST_ID, logger, metrics
from parley.wiring import configured


def _command(caller: Caller, workspace_id: str, frame: SendMessageFrame) -> dict[str, Any] | None:
    # Imported on the first command only: the HTTP client and the command code stay out of
    # this function's cold start (bench/coldstart.py).
    from parley import wiring
    from parley.domain import commands

    invocation = commands.parse(frame.text)
    if invocation is None:
        return None
    config = configured()
    if not config.http_api_url:
        raise RuntimeError("HTTP_API_URL is not set")
    outbound = commands.Outbound(wiring.http_poster(config), config.http_api_url)
    result = commands.invoke(
        caller,
        frame.channelId,
        invocation,
        frame,
        publisher=wiring.broadcaster(),
        outbound=outbound,
        workspace_id=workspace_id,
    )
    return {"type": "ack", "ok": True, "command": result.model_dump(mode="json")}


def _send(caller: Caller, workspace_id: str, frame: SendMessageFrame) -> dict[str, Any]:
    if frame.text.startswith("/"):  # every command does; ordinary text skips the imports
        ack = _command(caller, workspace_id, frame)
        if ack is not None:
            return ack
    message, _ = messages.post_message(
        caller, frame.channelId, frame, wiring.broadcaster(), workspace_id=workspace_id
    )
    return {"type": "ack", "ok": True, "message": message.wire()}


@logger.inject_lambda_context(correlation_id_path=REQUEST_ID, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    configured()
    return websocket.handle(event, SendMessageFrame, _send)
