"""EventBridge Scheduler's target: a scheduled message's or reminder's one-time schedule
invokes this once at its time, with `{kind, userId, id}` as the event (and `at`, the
occurrence, for a recurring reminder, whose next occurrence this schedules).

A scheduled message is posted as its author (or dropped, and its author told, when the
author may no longer post there); a reminder becomes its owner's `reminder` notification.
Redelivery is harmless: what was done has left the pending list, and a retried post finds
its first message by its id (parley.domain.scheduling). Failures are retried by Lambda's
asynchronous invocation and end in the DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import wiring
from parley.domain import scheduling
from parley.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    wiring.configured()
    logger.append_keys(scheduledKind=event.get("kind"), itemId=event.get("id"))
    outcome = scheduling.fire(
        event,
        wiring.broadcaster(),
        wiring.push(),
        # Only a recurring reminder's firing uses it: its next occurrence.
        scheduler=lambda: wiring.scheduler(context.invoked_function_arn),
    )
    logger.info("schedule fired", extra={"outcome": outcome})
    return {"outcome": outcome}
