"""The app events queue → the apps' request URLs: signed POSTs, retried on the queue with
a delay, a subscription paused when it keeps failing.

Failures of Parley's own (unreadable message, table or queue errors) are reported as batch
item failures: SQS redelivers them and, after maxReceiveCount, moves them to the DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.domain import app_delivery
from parley.observability import logger, metrics
from parley.wiring import configured, events_queue, http_poster


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    queued = [
        app_delivery.QueuedEnvelope(message_id=record.message_id, body=record.body)
        for record in SQSEvent(event).records
    ]
    config = configured()
    failed = app_delivery.deliver(
        queued, http_poster(config), events_queue(config), config.events_retry_delays
    )
    return {"batchItemFailures": [{"itemIdentifier": mid} for mid in failed]}
