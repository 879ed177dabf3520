"""The index queue → OpenSearch: one versioned bulk write per batch.

Messages that could not be written (429, 5xx after retries, or unreadable) are reported as
batch item failures: SQS redelivers them and, after maxReceiveCount, moves them to the DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.adapters.opensearch import SearchUnavailable
from parley.config import settings
from parley.observability import logger, metrics
from parley.search import pipeline
from parley.wiring import message_index


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    queued = [
        pipeline.QueuedChange(
            message_id=record.message_id,
            body=record.body,
            sent_at_ms=int(record.attributes.sent_timestamp or 0) or None,
        )
        for record in SQSEvent(event).records
    ]
    try:
        failed = pipeline.index(queued, message_index(settings()))
    except SearchUnavailable:
        logger.exception("search is unavailable: the whole batch returns to the queue")
        failed = [change.message_id for change in queued]
    return {"batchItemFailures": [{"itemIdentifier": mid} for mid in failed]}
