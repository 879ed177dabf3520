"""The path from the table to the index: stream → forwarder → index queue → indexer.

Delivery is at least once at every hop, and that is enough: every change carries the
message's version and the index keeps only the highest, so repeats and reorderings are
harmless. Nothing is dropped: what cannot be written stays in the queue and ends in its DLQ.

A stream batch's changes travel as one queue message, a pack (`{"changes": [...]}`, up to
PACK_BYTES): SQS bills the indexer's receives and deletes per message (per 64 KB), and Lambda
hands it ten messages a poll, so a pack of ten costs a tenth of the queue requests and of the
indexer's invocations that ten messages would. A pack is written or retried whole. The indexer
still reads a message of one change (the format before packs), so nothing queued is lost to a
deploy.
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


# SQS takes messages up to 256 KiB (of UTF-8); a pack stays well under, and a message's change
# (text up to 40,000 characters, at most 4 bytes each) always fits alone.
PACK_BYTES = 192 * 1024


def forward(records: Sequence[StreamRecord], queue: BatchQueue) -> str | None:
    """Sends the message changes among `records` to the index queue, in order, packed.

    Returns the sequence number of the first record that could not be sent (the stream
    retries from there: a pack that was refused is named by its first record), or None
    when all were.
    """
    packs: list[tuple[str, list[str]]] = []
    size = 0
    for record in records:
        change = change_from_stream(record.event_name, record.new_image, record.old_image)
        if change is None:
            continue
        body = change.model_dump_json()
        body_bytes = len(body.encode())
        if not packs or size + body_bytes + 1 > PACK_BYTES:
            packs.append((record.sequence_number, []))
            size = len(b'{"changes":[]}')
        packs[-1][1].append(body)
        size += body_bytes + 1
    pending = [(first, '{"changes":[' + ",".join(bodies) + "]}") for first, bodies in packs]
    failed = queue.send(pending)
    forwarded = sum(len(bodies) for first, bodies in packs if first not in failed)
    metrics.add_metric("SearchChangesForwarded", MetricUnit.Count, forwarded)
    return first_failed(records, failed)


def unpack(body: str) -> list[IndexChange]:
    """The changes of one index-queue message: a pack, or a single change."""
    data = json.loads(body)
    if isinstance(data, dict) and isinstance(data.get("changes"), list):
        return [IndexChange.model_validate(change) for change in data["changes"]]
    return [IndexChange.model_validate(data)]


def index(
    messages: Iterable[QueuedChange],
    target: ChangeIndex,
    clock: Callable[[], float] = time.time,
) -> list[str]:
    """Writes the queued changes in one bulk; returns the ids of the messages to redeliver.

    `SearchIndexLag` is how long the oldest change written waited in the index queue (the
    stream's own wait is the forwarder's IteratorAge): what search trails the table by."""
    messages = list(messages)
    changes: dict[str, list[IndexChange]] = {}
    unreadable: list[str] = []
    for message in messages:
        try:
            changes[message.message_id] = unpack(message.body)
        except (ValueError, ValidationError):
            logger.error("unreadable index change", extra={"messageId": message.message_id})
            unreadable.append(message.message_id)
    outcome = target.write([change for pack in changes.values() for change in pack])
    failed = {id(change) for change in outcome.failed}
    retry = [mid for mid, pack in changes.items() if any(id(c) in failed for c in pack)]
    indexed = sum(len(pack) for mid, pack in changes.items() if mid not in retry)
    metrics.add_metric("SearchChangesIndexed", MetricUnit.Count, indexed)
    written = set(changes) - set(retry)
    sent = [m.sent_at_ms for m in messages if m.message_id in written and m.sent_at_ms]
    if sent:
        lag_ms = max(0, int(clock() * 1000) - min(sent))
        metrics.add_metric("SearchIndexLag", MetricUnit.Milliseconds, lag_ms)
    if retry:
        metrics.add_metric("SearchChangesRetried", MetricUnit.Count, len(retry))
    return unreadable + retry
