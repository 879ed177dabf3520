"""The fan-out queue → the live connections of a large audience (parley.adapters.fanout).

Each message is a job of at most 500 connections of one event. The job's posts are paced
at this consumer's share of MaxPostsPerSecond; 410s are pruned (the connection, the user's
live set, the online index) as in the request path; connections that failed otherwise go
back on the queue as a new job of only those, up to 3 attempts. A job whose retry cannot
be queued (or that fails on Parley's side) is reported as a batch item failure: SQS gives
it again and, after 3 receives, moves it to the FanoutDLQ. A redelivered job posts again:
clients drop the repeat by the event's `eventId`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import wiring
from parley.adapters.fanout import Job
from parley.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failures: list[dict[str, str]] = []
    fanout = wiring.broadcaster()
    for record in event.get("Records") or []:
        message_id = str(record.get("messageId", ""))
        try:
            job = Job.parse(record["body"])
        except (KeyError, TypeError, ValueError):
            # Redelivery cannot make it readable: dropped, logged.
            logger.error("not a fan-out job", extra={"messageId": message_id})
            continue
        try:
            delivery = fanout.run_job(job)
        except Exception:
            logger.exception("fan-out job failed", extra={"messageId": message_id})
            failures.append({"itemIdentifier": message_id})
            continue
        logger.info(
            "fan-out job",
            extra={
                "connections": len(job.targets),
                "attempt": job.attempt,
                "delivered": delivery.delivered,
                "pruned": len(delivery.pruned),
                "requeued": delivery.queued,
            },
        )
    return {"batchItemFailures": failures}
