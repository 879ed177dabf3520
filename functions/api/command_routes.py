"""POST /commands/{token}: a slash command's response_url, for the app's later answers.

No gateway authorizer: the token in the URL is the credential (stored as its hash, usable 5
times within 30 minutes of the command).
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from hook_routes import raw_body

from parley.domain import commands, webhooks
from parley.edge import wiring
from parley.schemas import CommandResponse, CommandResponseReply

router = Router()


@router.post(
    "/commands/<token>",
    responses={
        201: {"description": "posted in the channel as the app's bot"},
        200: {"description": "shown to the command's invoker alone"},
    },
)
def respond_to_command(token: str) -> Response[CommandResponseReply]:
    answer = webhooks.parse_payload(raw_body(router.current_event), CommandResponse)
    reply = commands.respond(token, answer, wiring.broadcaster())
    return Response(201 if reply.message else 200, "application/json", reply)
