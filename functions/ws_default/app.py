"""$default: every frame that no route took (malformed JSON, no or unknown action) gets an
error frame; the connection stays open."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge import websocket
from parley.errors import InvalidRequest
from parley.observability import REQUEST_ID, log_connection, logger, metrics

ACTIONS = ("sendMessage", "markRead", "typing", "subscribePresence", "ping")


def _problem(event: dict[str, Any]) -> str:
    try:
        frame = websocket.load_frame(event)
    except InvalidRequest as invalid:
        return invalid.message
    if not isinstance(frame, dict):
        return "frame must be a JSON object"
    action = frame.get("action")
    if action is None:
        return "frame has no action"
    return f"unknown action {str(action)[:64]!r}; expected one of {', '.join(ACTIONS)}"


@logger.inject_lambda_context(correlation_id_path=REQUEST_ID, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    log_connection(event)
    problem = _problem(event)
    logger.info("refused frame", extra={"problem": problem})
    return websocket.error(InvalidRequest(problem), websocket.reply_to(event))
