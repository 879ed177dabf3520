"""Queues a retention sweep run now, as the daily schedule does (its plan task).

    python -m parley.retention_run --stack parley-dev
    python -m parley.retention_run --queue-url https://sqs.../parley-dev-RetentionQueue

`--stack` reads the queue's URL from the stack's Outputs (`RetentionQueueUrl`). `--at` sets
the run's time (ISO 8601, UTC when it names no zone; now by default): every channel loses
what is older than its retention at that time, so a time ahead sweeps early, as the tests
do. A run is idempotent: one queued twice deletes nothing more.

Locally: `make retention-sweep ARGS="--queue-url <RetentionQueue's URL> --aws-endpoint-url
http://127.0.0.1:3002"` (`make up` fires the daily schedule itself once a day).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from parley.adapters.cloudformation import operator_parser


def run_time(at: str | None) -> float:
    if not at:
        return time.time()
    moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def queue_url(arguments: argparse.Namespace) -> str:
    if arguments.queue_url:
        return str(arguments.queue_url)
    if not arguments.stack:
        raise ValueError("name the stack (--stack) or the queue (--queue-url)")
    from parley.adapters.cloudformation import StackOutputsError, required, stack_outputs

    try:
        outputs = stack_outputs(arguments.stack, arguments.region, arguments.aws_endpoint_url)
        (url,) = required(outputs, arguments.stack, "RetentionQueueUrl")
    except StackOutputsError as error:
        raise ValueError(str(error)) from None
    return str(url)


def main(argv: Sequence[str] | None = None) -> int:
    parser = operator_parser(
        "python -m parley.retention_run", __doc__, "the deployed stack whose Outputs name the queue"
    )
    parser.add_argument("--queue-url", help="the retention queue's URL")
    parser.add_argument("--at", help="the run's time (ISO 8601; now by default)")
    arguments = parser.parse_args(argv)
    try:
        url, run_at = queue_url(arguments), run_time(arguments.at)
    except ValueError as error:
        parser.error(str(error))

    import boto3

    from parley.adapters.sqs import SqsQueue
    from parley.domain import retention

    client = boto3.client(
        "sqs", region_name=arguments.region, endpoint_url=arguments.aws_endpoint_url
    )
    event = {"time": datetime.fromtimestamp(run_at, UTC).isoformat().replace("+00:00", "Z")}
    retention.start(event, SqsQueue(url, arguments.region, client))
    print(f"queued the retention run of {event['time']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
