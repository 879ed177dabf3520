"""The table's stream → the app events queue: an envelope per event and subscribed app.

At least once: the first record that could not be queued is reported, so the stream
retries from it (records after it may be queued twice; event ids make that harmless).
Never in the path of real-time delivery: this runs on the stream, after the write.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.apps.wiring import events_queue
from parley.domain import app_events
from parley.edge.wiring import configured
from parley.observability import logger, metrics
from parley.streams import stream_records


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = stream_records(event)
    first_failed = app_events.forward(records, events_queue(configured()))
    return {"batchItemFailures": [{"itemIdentifier": first_failed}] if first_failed else []}
