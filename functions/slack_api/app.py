"""Slack's Web API at /api/{method}: slack_sdk and Bolt apps call Parley with a bot token.

Glue only: read the call as Slack would (parley.slack.requests), run the method
(parley.slack.web_api), answer as Slack does. No gateway authorizer: the bot token is
checked against the table, so a revoked token stops working at once.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import wiring
from parley.observability import logger, metrics
from parley.slack import requests, web_api
from parley.wiring import configured


def _answer(reply: web_api.Reply) -> dict[str, Any]:
    return {
        "statusCode": reply.status,
        "headers": {"Content-Type": "application/json; charset=utf-8", **reply.headers},
        "body": json.dumps(reply.body, separators=(",", ":")),
    }


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    configured()
    try:
        request = requests.parse(event)
    except web_api.SlackError as refused:
        return _answer(web_api.Reply(200, {"ok": False, "error": refused.error}))
    logger.append_keys(slackMethod=request.method)
    reply = web_api.handle(request, wiring.broadcaster, wiring.scheduler)
    if reply.body.get("ok") is False:
        logger.info("slack method refused", extra={"error": reply.body.get("error")})
    return _answer(reply)
