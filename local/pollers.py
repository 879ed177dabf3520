"""Event source mappings: pollers that read DynamoDB streams and SQS queues and invoke the
functions the template wires to them, with Lambda's event shapes and batch semantics.

Streams (per shard, in order): a batch fills up to BatchSize or until the batching window
has passed; records that no filter admits are skipped. A shard read to its end is read
again a poll interval later, as Lambda resumes its base rate once it has caught up. With
ReportBatchItemFailures the shard checkpoints before the first failed sequence number and
retries the rest of the batch; a function error retries the whole batch (halved with
BisectBatchOnFunctionError). After MaximumRetryAttempts failed invocations (-1: forever, as
the record never expires here) the batch goes to the OnFailure destination and is skipped.
Every failed invocation counts as an attempt, bisected ones included.

Queues: failed messages stay in the queue and come back after the visibility timeout (the
queue's redrive policy moves them to its DLQ); the others, and those no filter admits, are
deleted.

Schedules (`rate(...)`): the function is invoked asynchronously once per period, the first
time one period after the start, as EventBridge does; a failed invocation is retried per
the function's EventInvokeConfig (twice by default) and then goes to its OnFailure
destination with Lambda's record.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError

from local.aws import AwsClients, JsonApiError
from local.event_filter import passes, sqs_filter_view
from local.intrinsics import ACCOUNT_ID, REGION
from local.sam import QueueSource, ScheduleSource, StreamSource
from local.workers import FunctionPool, Invocation

log = logging.getLogger(__name__)

_MAX_BACKOFF_S = 5.0
_READ_LIMIT = 1000  # GetRecords' most records a call
# Seconds a receive waits on an empty queue: short, so that stopping the stack is quick.
LONG_POLL_S = 2


def failed_items(
    invocation: Invocation, report_item_failures: bool, ids: Sequence[str]
) -> list[str]:
    """The ids (in batch order) that Lambda would consider failed.

    A function error fails the batch. With ReportBatchItemFailures, a null or empty response
    or `batchItemFailures` is a success; an item identifier that is missing, empty or not in
    the batch, or a response of the wrong shape, fails the whole batch.
    """
    if invocation.failed:
        return list(ids)
    if not report_item_failures:
        return []
    try:
        failed = _reported_failures(invocation.payload, ids)
    except ValueError:
        return list(ids)
    return [identifier for identifier in ids if identifier in failed]


def _reported_failures(payload: Any, ids: Sequence[str]) -> set[str]:
    if payload is None:
        return set()
    if not isinstance(payload, dict):
        raise ValueError("not a batch response")
    failures = payload.get("batchItemFailures") or []
    if not isinstance(failures, list):
        raise ValueError("batchItemFailures is not a list")
    identifiers = {
        item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures
    }
    if not identifiers <= set(ids):
        raise ValueError("an itemIdentifier is missing or not in the batch")
    return {str(identifier) for identifier in identifiers}


def stream_record(raw: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A stream record (GetRecords' wire form) as Lambda delivers it: moto omits
    `eventSourceARN`, and writes `ApproximateCreationDateTime` with milliseconds where Lambda
    sends whole epoch seconds."""
    dynamodb = dict(raw["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, int | float):
        dynamodb["ApproximateCreationDateTime"] = int(created)
    return {
        **raw,
        "eventVersion": "1.1",
        "awsRegion": REGION,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


def queue_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message (ReceiveMessage's wire form: binary values in base64) as Lambda
    delivers it."""
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value["DataType"],
        }
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {key: item for key, item in value.items() if item is not None}
            for name, value in attributes.items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


# What a request to moto may fail with, on either client: retried after a pause.
_MOTO_ERRORS = (
    BotoCoreError,
    ClientError,
    JsonApiError,
    aiohttp.ClientError,
    OSError,
    TimeoutError,
)


class _Poller:
    def __init__(self, pool: FunctionPool, aws: AwsClients, poll_interval_s: float) -> None:
        self._pool = pool
        self._aws = aws
        self._poll_interval_s = poll_interval_s
        # Set once the mapping has its place (a stream's shard iterators, a queue's URL), as
        # a deployed mapping has it when created: a stream's LATEST is fixed from here.
        self.ready = asyncio.Event()

    async def _call(self, service: str, action: str, **parameters: Any) -> dict[str, Any]:
        """A JSON-protocol action on the event loop (the pollers' every request to streams
        and queues), retried while moto is unreachable or refuses it."""
        return await self._retrying(lambda: self._aws.json.call(service, action, **parameters))

    async def _retrying(self, request: Callable[[], Awaitable[Any]]) -> Any:
        while True:
            try:
                return await request()
            except _MOTO_ERRORS as error:
                log.warning("%s: %s; retrying", self._pool.spec.logical_id, error)
                await asyncio.sleep(max(1.0, self._poll_interval_s))

    async def invoke_async(self, event: Any, max_retries: int, on_failure_arn: str | None) -> bool:
        """An asynchronous invocation as Lambda runs one: a failed attempt is retried up to
        `max_retries` times (the function's EventInvokeConfig), then the event goes to the
        OnFailure destination with Lambda's record. Whether it succeeded."""
        attempts = 0
        while True:
            attempts += 1
            invocation = await self._pool.invoke(event)
            if not invocation.failed:
                return True
            if attempts > max_retries:
                break
            await asyncio.sleep(self._poll_interval_s)
        log.warning(
            "%s: asynchronous invocation failed %d times: %s",
            self._pool.spec.logical_id,
            attempts,
            (invocation.error or {}).get("errorMessage"),
        )
        if on_failure_arn:
            document = {
                **_invocation_record(self._pool, invocation, attempts),
                "requestPayload": event,
                "responsePayload": invocation.error,
            }
            document["requestContext"]["condition"] = "RetriesExhausted"
            await self._send_to(on_failure_arn, json.dumps(document))
        return False

    async def _send_to(self, arn: str, message: str) -> None:
        service, name = arn.split(":")[2], arn.rsplit(":", 1)[-1]
        if service == "sqs":
            queue = await self._call("sqs", "GetQueueUrl", QueueName=name)
            await self._call("sqs", "SendMessage", QueueUrl=queue["QueueUrl"], MessageBody=message)
        elif service == "sns":  # a query-protocol service, rarely called: boto3 in a thread
            publish = self._aws("sns").publish
            await self._retrying(lambda: asyncio.to_thread(publish, TopicArn=arn, Message=message))
        else:
            log.warning("on-failure destination %s is not supported locally", arn)


class StreamPoller(_Poller):
    def __init__(
        self,
        source: StreamSource,
        pool: FunctionPool,
        aws: AwsClients,
        poll_interval_s: float,
    ) -> None:
        super().__init__(pool, aws, poll_interval_s)
        self._source = source

    async def run(self) -> None:
        description = await self._call(
            "dynamodbstreams", "DescribeStream", StreamArn=self._source.stream_arn
        )
        shards = [shard["ShardId"] for shard in description["StreamDescription"]["Shards"]]
        position = self._source.starting_position
        iterators = [await self._iterator(shard, position) for shard in shards]
        self.ready.set()
        await asyncio.gather(*(self._follow(s, i) for s, i in zip(shards, iterators, strict=True)))

    async def _iterator(self, shard_id: str, position: str) -> str:
        reply = await self._call(
            "dynamodbstreams",
            "GetShardIterator",
            StreamArn=self._source.stream_arn,
            ShardId=shard_id,
            ShardIteratorType=position,
        )
        iterator: str = reply["ShardIterator"]
        return iterator

    async def _follow(self, shard_id: str, iterator: str | None) -> None:
        pending: list[dict[str, Any]] = []
        while iterator or pending:
            iterator, caught_up = await self._fill(pending, iterator)
            if pending:
                await self._deliver(pending, shard_id)
                if caught_up and not pending:
                    # Lambda polls a shard at a base rate (four times a second) and resumes
                    # that rate once it has caught up: the next read waits for its turn.
                    await asyncio.sleep(self._poll_interval_s)
        # The shard closed (split): its children carry on from their start.
        description = await self._call(
            "dynamodbstreams", "DescribeStream", StreamArn=self._source.stream_arn
        )
        children = [
            shard["ShardId"]
            for shard in description["StreamDescription"]["Shards"]
            if shard.get("ParentShardId") == shard_id
        ]
        await asyncio.gather(*(self._follow_from(child, "TRIM_HORIZON") for child in children))

    async def _follow_from(self, shard_id: str, position: str) -> None:
        await self._follow(shard_id, await self._iterator(shard_id, position))

    async def _fill(
        self, pending: list[dict[str, Any]], iterator: str | None
    ) -> tuple[str | None, bool]:
        """Reads the shard into `pending` until a batch is full, or the batching window
        (which opens with the first pending record) has passed, or the shard closed; and
        whether the last read reached the shard's end."""
        source = self._source
        window_ends = time.monotonic() + source.batching_window_s
        caught_up = False
        while iterator and len(pending) < source.batch_size:
            reply = await self._call(
                "dynamodbstreams", "GetRecords", ShardIterator=iterator, Limit=_READ_LIMIT
            )
            iterator = reply.get("NextShardIterator")
            caught_up = len(reply["Records"]) < _READ_LIMIT
            records = (stream_record(raw, source.stream_arn) for raw in reply["Records"])
            pending.extend(record for record in records if passes(source.filters, record))
            if not pending:
                window_ends = time.monotonic() + source.batching_window_s
            elif len(pending) >= source.batch_size or time.monotonic() >= window_ends:
                break
            await asyncio.sleep(self._poll_interval_s)
        return iterator, caught_up

    async def _deliver(self, pending: list[dict[str, Any]], shard_id: str) -> None:
        """Delivers the first batch of `pending`, retrying until it succeeds or is given up,
        and removes what is done from `pending`."""
        source, attempts, size = self._source, 0, self._source.batch_size
        while True:
            batch = pending[:size]
            invocation = await self._pool.invoke({"Records": batch})
            ids = [record["dynamodb"]["SequenceNumber"] for record in batch]
            failed = failed_items(invocation, source.report_item_failures, ids)
            if not failed:
                del pending[: len(batch)]
                return
            attempts += 1
            checkpoint = ids.index(failed[0])
            del pending[:checkpoint]
            batch = batch[checkpoint:]
            # The retry keeps to the rest of this batch (or its first half, bisecting).
            bisect = invocation.failed and source.bisect_on_error and len(batch) > 1
            size = len(batch) // 2 if bisect else len(batch)
            if 0 <= source.max_retries < attempts:
                await self._give_up(batch, shard_id, invocation, attempts)
                del pending[: len(batch)]
                return
            await asyncio.sleep(min(_MAX_BACKOFF_S, self._poll_interval_s * 2**attempts))

    async def _give_up(
        self, batch: list[dict[str, Any]], shard_id: str, invocation: Invocation, attempts: int
    ) -> None:
        log.warning(
            "%s: giving up on %d stream records after %d attempts",
            self._pool.spec.logical_id,
            len(batch),
            attempts,
        )
        destination = self._source.on_failure_arn
        if not destination:
            return
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        document = {
            **_invocation_record(self._pool, invocation, attempts),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(batch),
                "streamArn": self._source.stream_arn,
            },
        }
        await self._send_to(destination, json.dumps(document))


def _iso(epoch_s: Any) -> str | None:
    if not isinstance(epoch_s, int | float):
        return None
    return datetime.datetime.fromtimestamp(epoch_s, datetime.UTC).isoformat().replace("+00:00", "Z")


def _invocation_record(pool: FunctionPool, invocation: Invocation, attempts: int) -> dict[str, Any]:
    """The common part of Lambda's on-failure destination record."""
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if invocation.failed:
        response["functionError"] = "Unhandled"
    return {
        "requestContext": {
            "requestId": invocation.request_id,
            "functionArn": pool.spec.arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": attempts,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z"),
    }


class QueuePoller(_Poller):
    def __init__(
        self,
        source: QueueSource,
        pool: FunctionPool,
        aws: AwsClients,
        poll_interval_s: float,
    ) -> None:
        super().__init__(pool, aws, poll_interval_s)
        self._source = source

    async def run(self) -> None:
        name = self._source.queue_arn.rsplit(":", 1)[-1]
        url = (await self._call("sqs", "GetQueueUrl", QueueName=name))["QueueUrl"]
        self.ready.set()
        # Lambda polls a queue with several concurrent pollers.
        await asyncio.gather(*(self._poll(url) for _ in range(self._source.max_concurrency)))

    async def _poll(self, url: str) -> None:
        source = self._source
        while True:
            admitted: list[dict[str, Any]] = []
            done: list[dict[str, Any]] = []  # to delete
            for message in await self._receive(url):
                record = queue_record(message, source.queue_arn)
                (admitted if passes(source.filters, sqs_filter_view(record)) else done).append(
                    record
                )
            if admitted:
                invocation = await self._pool.invoke({"Records": admitted})
                ids = [record["messageId"] for record in admitted]
                failed = set(failed_items(invocation, source.report_item_failures, ids))
                done += [record for record in admitted if record["messageId"] not in failed]
            await self._delete(url, done)

    async def _receive(self, url: str) -> list[dict[str, Any]]:
        """Messages up to BatchSize, within the batching window that the first one opens."""
        source, messages = self._source, list[dict[str, Any]]()
        window_ends = time.monotonic() + source.batching_window_s
        while len(messages) < source.batch_size:
            # Long polling while the queue is empty, as Lambda's pollers do: moto answers the
            # moment a message arrives, and an idle queue costs one request per LONG_POLL_S.
            waiting = not messages
            asked = min(10, source.batch_size - len(messages))
            reply = await self._call(
                "sqs",
                "ReceiveMessage",
                QueueUrl=url,
                MaxNumberOfMessages=asked,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=LONG_POLL_S if waiting else 0,
            )
            received = reply.get("Messages", [])
            messages.extend(received)
            if not messages:
                window_ends = time.monotonic() + source.batching_window_s
                continue
            if time.monotonic() >= window_ends:
                break
            if len(received) < asked:
                # The queue is drained for now: wait for more to the end of the window,
                # a poll interval at a time, rather than asking again at once (a trickle
                # of messages made every poller ask back to back).
                await asyncio.sleep(
                    min(self._poll_interval_s, max(0.0, window_ends - time.monotonic()))
                )
        return messages

    async def _delete(self, url: str, records: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            entries = [
                {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                for index, record in enumerate(records[start : start + 10])
            ]
            await self._call("sqs", "DeleteMessageBatch", QueueUrl=url, Entries=entries)


def scheduled_event(rule_arn: str, now: datetime.datetime) -> dict[str, Any]:
    """What an EventBridge rule's schedule hands its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    }


class SchedulePoller(_Poller):
    """Invokes the function every `interval_s` (the template's rate unless overridden)."""

    def __init__(
        self,
        source: ScheduleSource,
        pool: FunctionPool,
        aws: AwsClients,
        poll_interval_s: float,
        interval_s: float | None = None,
    ) -> None:
        super().__init__(pool, aws, poll_interval_s)
        self._source = source
        self.interval_s = interval_s if interval_s is not None else source.interval_s

    async def run(self) -> None:
        rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{self._source.rule_name}"
        next_run = time.monotonic() + self.interval_s
        self.ready.set()
        while True:
            await asyncio.sleep(max(0.0, next_run - time.monotonic()))
            next_run += self.interval_s
            now = datetime.datetime.now(datetime.UTC)
            event = self._source.input
            if event is None:
                event = scheduled_event(rule_arn, now)
            # Asynchronous, as Lambda invokes for EventBridge: the next tick does not wait.
            task = asyncio.create_task(
                self.invoke_async(event, self._source.max_retries, self._source.on_failure_arn)
            )
            task.add_done_callback(lambda done: done.cancelled() or done.exception())


class AsyncInvoker(_Poller):
    """Invokes one function asynchronously for a service that is no event source mapping
    (EventBridge Scheduler's targets, local.scheduler)."""
