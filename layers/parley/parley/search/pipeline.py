"""The path from the table to the index: stream → forwarder → index queue → indexer.

Delivery is at least once at every hop, and that is enough: every change carries the
message's version and the index keeps only the highest, so repeats and reorderings are
harmless. Nothing is dropped: what cannot be written stays in the queue and ends in its DLQ.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError

from parley.adapters.opensearch import WriteOutcome
from parley.observability import MetricUnit, logger, metrics
from parley.search.changes import IndexChange, change_from_stream
from parley.streams import BatchQueue, StreamRecord, first_failed


@dataclass(frozen=True)
class QueuedChange:
    message_id: str
    body: str
    # When the forwarder queued it (SQS's SentTimestamp), for the index lag.
    sent_at_ms: int | None = None


class ChangeIndex(Protocol):
    def write(self, changes: Sequence[IndexChange]) -> WriteOutcome: ...


def forward(records: Sequence[StreamRecord], queue: BatchQueue) -> str | None:
    """Sends the message changes among `records` to the index queue, in order.

    Returns the sequence number of the first record that could not be sent (the stream
    retries from there), or None when all were.
    """
    pending: list[tuple[str, str]] = []
    for record in records:
        change = change_from_stream(record.event_name, record.new_image, record.old_image)
        if change is not None:
            pending.append((record.sequence_number, change.model_dump_json()))
    failed = queue.send(pending)
    metrics.add_metric("SearchChangesForwarded", MetricUnit.Count, len(pending) - len(failed))
    return first_failed(records, failed)


def index(
    messages: Iterable[QueuedChange],
    target: ChangeIndex,
    clock: Callable[[], float] = time.time,
) -> list[str]:
    """Writes the queued changes in one bulk; returns the ids of the messages to redeliver.

    `SearchIndexLag` is how long the oldest change written waited in the index queue (the
    stream's own wait is the forwarder's IteratorAge): what search trails the table by."""
    messages = list(messages)
    changes: dict[str, IndexChange] = {}
    unreadable: list[str] = []
    for message in messages:
        try:
            changes[message.message_id] = IndexChange.model_validate(json.loads(message.body))
        except (ValueError, ValidationError):
            logger.error("unreadable index change", extra={"messageId": message.message_id})
            unreadable.append(message.message_id)
    outcome = target.write(list(changes.values()))
    failed = {id(change) for change in outcome.failed}
    retry = [mid for mid, change in changes.items() if id(change) in failed]
    metrics.add_metric("SearchChangesIndexed", MetricUnit.Count, len(changes) - len(retry))
    written = set(changes) - set(retry)
    sent = [m.sent_at_ms for m in messages if m.message_id in written and m.sent_at_ms]
    if sent:
        lag_ms = max(0, int(clock() * 1000) - min(sent))
        metrics.add_metric("SearchIndexLag", MetricUnit.Milliseconds, lag_ms)
    if retry:
        metrics.add_metric("SearchChangesRetried", MetricUnit.Count, len(retry))
    return unreadable + retry
