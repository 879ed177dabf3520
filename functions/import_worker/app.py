"""The import queue → Slack imports' work: a `plan` (users, channels, the chunks queued) or a
`chunk` (one day file's messages), as parley.domain.imports describes.

Failures of Parley's own (the table, the bucket or the queue failing) are reported as batch
item failures: SQS redelivers them and, after maxReceiveCount, moves them to the DLQ. An
export that cannot be imported is no failure here: its import ends `failed` with the reason.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.domain import imports
from parley.observability import logger, metrics
from parley.wiring import configured, file_bucket, import_queue


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    work = [(record.message_id, record.body) for record in SQSEvent(event).records]
    config = configured()
    failed = imports.run_batch(
        work, file_bucket(), import_queue(config), context.get_remaining_time_in_millis
    )
    return {"batchItemFailures": [{"itemIdentifier": mid} for mid in failed]}
