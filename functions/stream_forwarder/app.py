"""The table's stream → the index queue (message changes, one queue message each) and the
app events queue (an envelope per event and subscribed app).

One function for both, so the table's stream has two readers (this and the notifier), the
most the DynamoDB guide advises per shard; a third can be throttled.

At least once: the earliest record that either queue did not take is reported, so the
stream retries from it. Records after it may be queued twice, to either queue; index
versions and event ids make that harmless. Never in the path of real-time delivery: this
runs on the stream, after the write.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.domain import app_events
from parley.observability import logger, metrics
from parley.search import pipeline
from parley.streams import first_failed, stream_records
from parley.wiring import configured, events_queue, index_queue


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = stream_records(event)
    config = configured()
    failed = {
        pipeline.forward(records, index_queue(config)),
        app_events.forward(records, events_queue(config)),
    }
    first = first_failed(records, {sequence for sequence in failed if sequence is not None})
    return {"batchItemFailures": [{"itemIdentifier": first}] if first else []}
