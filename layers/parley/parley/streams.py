"""The table's stream records as the consumers read them (images already deserialized)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

StreamEventName = Literal["INSERT", "MODIFY", "REMOVE"]


@dataclass(frozen=True)
class StreamRecord:
    sequence_number: str
    event_name: StreamEventName
    new_image: dict[str, Any] | None
    old_image: dict[str, Any] | None


def stream_records(event: dict[str, Any]) -> list[StreamRecord]:
    return [
        StreamRecord(
            sequence_number=str(record.dynamodb.sequence_number),
            event_name=record.raw_event["eventName"],
            new_image=record.dynamodb.new_image or None,
            old_image=record.dynamodb.old_image or None,
        )
        for record in DynamoDBStreamEvent(event).records
        if record.dynamodb is not None
    ]


class BatchQueue(Protocol):
    """Where a stream consumer forwards to."""

    def send(self, bodies: Sequence[tuple[str, str]]) -> set[str]:
        """Sends (id, body) pairs; returns the ids that were not accepted."""
        ...


def first_failed(records: Sequence[StreamRecord], failed: set[str]) -> str | None:
    """The sequence number the stream must retry from (records are in stream order)."""
    return next((r.sequence_number for r in records if r.sequence_number in failed), None)
