"""Every minute (an EventBridge schedule): announces `away` to the subscribers of users
whose heartbeats expired, so watchers learn it without waiting for the user's next change.

Overlapping or repeated runs are harmless: each expiry is claimed by one conditional write.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import wiring
from parley.domain import presence
from parley.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    wiring.configured()
    announced = presence.sweep(wiring.broadcaster())
    logger.info("presence sweep", extra={"announced": announced})
    return {"announced": announced}
