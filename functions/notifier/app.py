"""The table's stream → notifications for mentions and DMs (see parley.edge.notifier)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import wiring
from parley.edge.notifier import process_stream
from parley.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    wiring.configured()
    return process_stream(event, context, wiring.broadcaster(), wiring.push())
