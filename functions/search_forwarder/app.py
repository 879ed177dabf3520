"""The table's stream → the index queue: message changes, one queue message each.

At least once: a record that cannot be sent is reported as the batch's first failure, so
the stream retries from it (records after it may be sent twice; versions make that harmless).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.config import settings
from parley.observability import logger, metrics
from parley.search import pipeline
from parley.search.wiring import index_queue
from parley.streams import stream_records


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = stream_records(event)
    first_failed = pipeline.forward(records, index_queue(settings()))
    failures = [{"itemIdentifier": first_failed}] if first_failed else []
    return {"batchItemFailures": failures}
