"""Moves the index DLQ's changes back to the index queue once OpenSearch is back.

    python -m parley.search.redrive --stack parley-dev
    python -m parley.search.redrive --dlq-url https://sqs.../parley-dev-IndexDeadLetterQueue \
        --queue-url https://sqs.../parley-dev-IndexQueue

`--stack` reads the two URLs from the stack's Outputs (`IndexDeadLetterQueueUrl`,
`IndexQueueUrl`).

An index change lands in the DLQ after the indexer failed it `maxReceiveCount` times (the
domain was down, or refused the write); sent back, it is a new message with a fresh receive
count, and the indexer writes it at its version, so a change that a newer one overtook in
the meantime is a harmless 409. Each message is sent before it is deleted: a crash between
the two leaves a copy in both queues, never in neither.

The DLQ also receives the forwarder's on-failure records (stream batches it could not send:
metadata with `DDBStreamBatchInfo`, no change in them). Those stay in the DLQ and are
counted: their messages are recovered with `make reindex`. This filter is also why this is
not SQS's StartMessageMoveTask, which moves everything (and which moto does not offer).

Locally: `make redrive ARGS="--dlq-url ... --queue-url ... --aws-endpoint-url http://127.0.0.1:3002"`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from parley.adapters.cloudformation import operator_parser

# Long enough that one run never receives a message it has kept twice.
_HOLD_S = 300


@dataclass
class Redriven:
    moved: int = 0
    kept: int = 0  # on-failure records, left in the DLQ
    failed: int = 0  # could not be sent; still in the DLQ


def is_stream_failure_record(body: str) -> bool:
    try:
        document = json.loads(body)
    except ValueError:
        return False
    return isinstance(document, dict) and "DDBStreamBatchInfo" in document


def redrive(sqs: Any, dlq_url: str, queue_url: str) -> Redriven:
    result = Redriven()
    while True:
        messages = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=_HOLD_S, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return result
        changes = [m for m in messages if not is_stream_failure_record(m["Body"])]
        result.kept += len(messages) - len(changes)
        if not changes:
            continue
        sent = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(changes)],
        )
        moved = [changes[int(entry["Id"])] for entry in sent.get("Successful", [])]
        result.failed += len(changes) - len(moved)
        if moved:
            sqs.delete_message_batch(
                QueueUrl=dlq_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(moved)
                ],
            )
        result.moved += len(moved)


def queues(arguments: argparse.Namespace) -> tuple[str, str]:
    """The DLQ's and the queue's URLs: given, or read from the stack's Outputs."""
    if arguments.stack:
        from parley.adapters.cloudformation import StackOutputsError, required, stack_outputs

        try:
            outputs = stack_outputs(arguments.stack, arguments.region, arguments.aws_endpoint_url)
            dlq, queue = required(
                outputs, arguments.stack, "IndexDeadLetterQueueUrl", "IndexQueueUrl"
            )
        except StackOutputsError as error:
            raise ValueError(str(error)) from None
        return arguments.dlq_url or dlq, arguments.queue_url or queue
    if not (arguments.dlq_url and arguments.queue_url):
        raise ValueError("name the stack (--stack) or both queues (--dlq-url, --queue-url)")
    return arguments.dlq_url, arguments.queue_url


def main(argv: Sequence[str] | None = None) -> int:
    parser = operator_parser(
        "python -m parley.search.redrive",
        __doc__,
        "the deployed stack whose Outputs name the queues",
    )
    parser.add_argument("--dlq-url", help="the index dead-letter queue's URL")
    parser.add_argument("--queue-url", help="the index queue's URL")
    arguments = parser.parse_args(argv)
    try:
        dlq_url, queue_url = queues(arguments)
    except ValueError as error:
        parser.error(str(error))

    import boto3

    sqs = boto3.client("sqs", region_name=arguments.region, endpoint_url=arguments.aws_endpoint_url)
    result = redrive(sqs, dlq_url, queue_url)
    print(
        f"moved {result.moved} index changes back to the queue; kept {result.kept} stream "
        f"failure records (recover them with make reindex); {result.failed} could not be sent",
        file=sys.stderr,
    )
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
