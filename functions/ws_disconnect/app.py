"""$disconnect: forgets the connection. Best effort in API Gateway too: pruning on 410 and
the record's TTL catch what this misses."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import wiring
from parley.domain import connections, presence
from parley.observability import REQUEST_ID, log_connection, logger, metrics
from parley.wiring import configured


@logger.inject_lambda_context(correlation_id_path=REQUEST_ID, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    log_connection(event)
    config = configured()
    connection_id = event["requestContext"]["connectionId"]
    record = connections.closed(connection_id)
    if record is not None:
        presence.announce(
            record.userId,
            record.workspaceId,
            wiring.broadcaster(),
            timeout_s=config.presence_timeout_seconds,
        )
    return {"statusCode": 200}
