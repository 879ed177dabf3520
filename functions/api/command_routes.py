"""POST /commands/{token}: a slash command's response_url, for the app's later answers in
Slack's shape (`{text, blocks, response_type, replace_original, delete_original,
thread_ts}`), answered as Slack's: `{"ok": true}`, or `ok` false with Slack's error.

No gateway authorizer: the token in the URL is the credential (stored as its hash, usable 5
times within 30 minutes of the command).
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.types import (
    OpenAPIResponse,
    OpenAPIResponseContentModel,
)
from hook_routes import media_type, raw_body
from pydantic import ValidationError

from parley import wiring
from parley.domain import commands
from parley.edge.schemas import CommandResponse, CommandResponseReply
from parley.errors import ParleyError
from parley.slack import webhooks as slack_webhooks
from parley.slack.webhooks import Refusal

router = Router()


def _slack_error(description: str) -> OpenAPIResponse:
    shape: OpenAPIResponseContentModel = {"model": CommandResponseReply}
    return {"description": description, "content": {"application/json": shape}}


@router.post(
    "/commands/<token>",
    summary="Answer a slash command later (Slack's response_url)",
    responses={
        200: {"description": 'shown, replaced or deleted: `{"ok": true}`'},
        400: _slack_error("`invalid_payload`, `invalid_blocks`, `no_text` or `msg_too_long`"),
        403: _slack_error("`action_prohibited`: the invoker left the channel"),
        404: _slack_error("`expired_url`, `used_url` (5 uses), `channel_not_found`"),
        413: _slack_error("`invalid_payload`: the body is over 512 KB"),
        429: _slack_error("`rate_limited`: the app's bot posts too fast (see Retry-After)"),
    },
)
def respond_to_command(token: str) -> Response[CommandResponseReply]:
    event = router.current_event
    try:
        answer = slack_webhooks.read(raw_body(event), media_type(event), CommandResponse)
        commands.respond(token, answer, wiring.broadcaster())
    except (ParleyError, ValidationError, Refusal) as error:
        refused = slack_webhooks.refusal(error)
        body = CommandResponseReply(ok=False, error=refused.error)
        return Response(refused.status, "application/json", body, headers=refused.headers)
    return Response(200, "application/json", CommandResponseReply(ok=True))
