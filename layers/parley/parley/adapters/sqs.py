"""The SQS adapter of Parley's queues (the search index queue, the app events queue)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

SQS_BATCH = 10


class SqsQueue:
    def __init__(self, queue_url: str, region: str, client: Any | None = None) -> None:
        import boto3

        self.queue_url = queue_url
        self.client = client or boto3.client("sqs", region_name=region)

    def send(self, bodies: Sequence[tuple[str, str]]) -> set[str]:
        failed: set[str] = set()
        for start in range(0, len(bodies), SQS_BATCH):
            chunk = bodies[start : start + SQS_BATCH]
            # SQS batch entry ids allow 80 of [A-Za-z0-9_-]; positions stand in for ours.
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": str(position), "MessageBody": body}
                for position, (_, body) in enumerate(chunk)
            ]
            reply = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            failed.update(chunk[int(f["Id"])][0] for f in reply.get("Failed", []))
        return failed

    def send_delayed(self, body: str, delay_seconds: int) -> None:
        """One message, invisible for `delay_seconds` (SQS allows up to 900)."""
        self.client.send_message(
            QueueUrl=self.queue_url, MessageBody=body, DelaySeconds=delay_seconds
        )
