"""The table's stream: the images its records carry, as the domain's records."""

from __future__ import annotations

from typing import Any

from parley.adapters.dynamodb.items import MessageItem
from parley.adapters.dynamodb.records import message_record
from parley.domain.records import MessageRecord


def message_from_image(image: dict[str, Any]) -> MessageRecord:
    """The message a stream record's image (its NewImage or OldImage, in DynamoDB's JSON)
    holds; raises if the image is not a message's."""
    return message_record(MessageItem.from_raw_data(image))
