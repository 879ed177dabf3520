"""The table's stream → notifications: each new message notifies those it is meant for.

Delivery guarantee: at least once. Lambda redelivers a batch's failed records (reported one
by one with Powertools' partial batch response) until they succeed or go to the DLQ; a
redelivered record finds its notifications written and delivers only those that had not
reached their recipients (a push that failed makes its record fail, so it comes back).
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.adapters.dynamodb.stream import message_from_image
from parley.domain import notifications
from parley.domain.notifications import Push
from parley.domain.ports import Publisher
from parley.domain.records import MessageRecord


def process_stream(
    event: dict[str, Any],
    context: LambdaContext,
    publisher: Publisher,
    push: Push | None,
) -> dict[str, Any]:
    """Handles a batch of message INSERTs (and hereUsers being recorded); the failed ones."""

    def handle(record: DynamoDBRecord) -> None:
        message = _message(record.raw_event)
        # The posting path records <!here>'s active members after the insert, as an update.
        here_only = record.raw_event["eventName"] == "MODIFY"
        notifications.notify(
            message, publisher, push, time.time(), here_only=here_only, channels=channels
        )

    channels = notifications.channels_of(_readable_messages(event))

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    reply = process_partial_response(
        event=event, record_handler=handle, processor=processor, context=context
    )
    return dict(reply)


def _message(raw_event: dict[str, Any]) -> MessageRecord:
    return message_from_image(raw_event["dynamodb"]["NewImage"])


def _readable_messages(event: dict[str, Any]) -> list[MessageRecord]:
    """The batch's messages, for reading their channels ahead; a record that cannot be read
    is left out here and fails on its own in the batch."""
    messages = []
    for raw_event in event.get("Records", ()):
        try:
            messages.append(_message(raw_event))
        except Exception:  # noqa: S112 - a poison record: its own handling reports it
            continue
    return messages
