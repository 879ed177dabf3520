"""The retention sweep: the daily schedule's event queues the run's plan; the retention
queue's tasks (plan → a task per workspace → a task per channel) do the deleting, as
parley.domain.retention describes.

Failures of Parley's own (the table, the bucket or the queue failing) are reported as batch
item failures: SQS redelivers them and, after maxReceiveCount, moves them to the DLQ. Every
task is idempotent, and a channel task carries the run's cutoff, so a retry deletes the same
messages and no newer ones.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.domain import retention
from parley.observability import logger, metrics
from parley.wiring import configured, file_bucket, retention_queue


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = configured()
    queue = retention_queue(config)
    if "Records" not in event:  # the daily schedule
        retention.start(event, queue)
        return {"batchItemFailures": []}
    work = [(record.message_id, record.body) for record in SQSEvent(event).records]
    failed = retention.run_batch(work, file_bucket(), queue, context.get_remaining_time_in_millis)
    return {"batchItemFailures": [{"itemIdentifier": mid} for mid in failed]}
