"""Event source mapping semantics: batch results, record shapes, stream retries."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from local import pollers
from local.pollers import StreamPoller, failed_items, queue_record, stream_record
from local.sam import FunctionSpec, StreamSource
from local.workers import Invocation

IDS = ["1", "2", "3"]
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (None, []),
        ({}, []),
        ({"batchItemFailures": None}, []),
        ({"batchItemFailures": []}, []),
        ({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]}, ["2", "3"]),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, IDS),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, IDS),
        ({"batchItemFailures": [{"id": "2"}]}, IDS),
        ({"batchItemFailures": [{"itemIdentifier": "9"}]}, IDS),
        ({"batchItemFailures": "2"}, IDS),
        ("ok", IDS),
    ],
)
def test_partial_batch_responses(payload: Any, expected: list[str]) -> None:
    assert failed_items(Invocation("r", payload=payload), True, IDS) == expected


def test_without_report_item_failures_only_an_error_fails_the_batch() -> None:
    reported = Invocation("r", payload={"batchItemFailures": [{"itemIdentifier": "2"}]})
    assert failed_items(reported, False, IDS) == []
    errored = Invocation("r", error={"errorType": "ValueError", "errorMessage": "x"})
    assert failed_items(errored, False, IDS) == IDS


def test_stream_records_get_lambdas_shape() -> None:
    raw = {  # GetRecords' wire form, as moto writes it
        "eventID": "e1",
        "eventName": "INSERT",
        "eventVersion": "1.0",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1767225600.738,
            "Keys": {"PK": {"S": "a"}},
            "NewImage": {"PK": {"S": "a"}, "blob": {"B": "AAE="}, "set": {"BS": ["Ag=="]}},
            "SequenceNumber": "100",
            "SizeBytes": 12,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    record = stream_record(raw, STREAM_ARN)
    assert record["eventSourceARN"] == STREAM_ARN
    assert record["eventVersion"] == "1.1"
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1767225600  # whole seconds
    assert record["dynamodb"]["NewImage"] == raw["dynamodb"]["NewImage"]  # type: ignore[index]  # a stream record's dynamodb member is an untyped mapping
    assert record["eventID"] == "e1"
    json.dumps(record)  # what reaches the function is plain JSON


def test_queue_records_get_lambdas_shape() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "MD5OfBody": "md5",
        "Body": "hello",
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "MD5OfMessageAttributes": "md5a",
        "MessageAttributes": {
            "kind": {"StringValue": "work", "DataType": "String"},
            "raw": {"BinaryValue": "AQ==", "DataType": "Binary"},
        },
    }
    assert queue_record(message, "arn:aws:sqs:us-east-1:123456789012:q") == {
        "messageId": "m1",
        "receiptHandle": "rh",
        "body": "hello",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "messageAttributes": {
            "kind": {
                "stringValue": "work",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            },
            "raw": {
                "binaryValue": "AQ==",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Binary",
            },
        },
        "md5OfBody": "md5",
        "md5OfMessageAttributes": "md5a",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }


# ------------------------------------------------------------------ stream retries, offline


def fake_spec(logical_id: str) -> FunctionSpec:
    """A function that fake pools stand for (nothing runs it)."""
    return FunctionSpec(
        logical_id=logical_id,
        name=logical_id.lower(),
        code_dir=Path(),
        handler="app.handler",
        runtime="python3.12",
        timeout_s=3,
        memory_mb=128,
        layer_dirs=(),
        environment={},
    )


class FakePool:
    """Runs `behaviour` on each batch's sequence numbers and records the batches."""

    def __init__(self, behaviour: Callable[[list[str]], Invocation]) -> None:
        self.spec = fake_spec("Consumer")
        self.batches: list[list[str]] = []
        self._behaviour = behaviour

    async def invoke(self, event: dict[str, Any]) -> Invocation:
        batch = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
        self.batches.append(batch)
        return self._behaviour(batch)


class FakeAws:
    """The stack's AWS clients, as far as an on-failure destination queue goes."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.json = self

    async def call(self, service: str, action: str, **parameters: Any) -> dict[str, Any]:
        assert service == "sqs"
        if action == "GetQueueUrl":
            return {"QueueUrl": f"http://queue/{parameters['QueueName']}"}
        assert action == "SendMessage"
        self.sent.append({"url": parameters["QueueUrl"], **json.loads(parameters["MessageBody"])})
        return {}


def stream_source(**settings: Any) -> StreamSource:
    """A stream mapping of the `Consumer` function: no batching window, no filters, partial
    batch responses, two retries; `settings` change any of it."""
    defaults: dict[str, Any] = {
        "function": "Consumer",
        "stream_arn": STREAM_ARN,
        "starting_position": "TRIM_HORIZON",
        "batch_size": 4,
        "batching_window_s": 0,
        "filters": (),
        "report_item_failures": True,
        "max_retries": 2,
        "bisect_on_error": False,
        "on_failure_arn": "arn:aws:sqs:us-east-1:123456789012:failures",
    }
    return StreamSource(**{**defaults, **settings})


def deliver_all(
    behaviour: Callable[[list[str]], Invocation], *, bisect: bool = False, max_retries: int = 2
) -> tuple[FakePool, FakeAws]:
    source = stream_source(max_retries=max_retries, bisect_on_error=bisect)
    pool, aws = FakePool(behaviour), FakeAws()
    poller = StreamPoller(source, pool, aws, poll_interval_s=0)  # type: ignore[arg-type]  # FakePool and FakeAws play the worker pool and AWS
    pending = [
        {"dynamodb": {"SequenceNumber": str(n), "ApproximateCreationDateTime": 1767225600}}
        for n in range(1, 6)
    ]

    async def run() -> None:
        while pending:
            await poller._deliver(pending, "shard-1")

    asyncio.run(run())
    return pool, aws


def ok(batch: list[str]) -> Invocation:
    return Invocation("r", payload={"batchItemFailures": []})


def error(batch: list[str]) -> Invocation:
    return Invocation("r", error={"errorType": "RuntimeError", "errorMessage": "poison"})


def test_a_stream_batch_is_retried_from_the_first_reported_failure() -> None:
    attempts: dict[str, int] = {}

    def flaky_two(batch: list[str]) -> Invocation:
        attempts["2"] = attempts.get("2", 0) + ("2" in batch)
        failed = [{"itemIdentifier": "2"}] if "2" in batch and attempts["2"] == 1 else []
        return Invocation("r", payload={"batchItemFailures": failed})

    pool, aws = deliver_all(flaky_two)
    assert pool.batches == [["1", "2", "3", "4"], ["2", "3", "4"], ["5"]]
    assert aws.sent == []


def test_a_batch_that_keeps_failing_goes_to_the_on_failure_destination() -> None:
    pool, aws = deliver_all(lambda batch: error(batch) if "1" in batch else ok(batch))
    assert pool.batches == [["1", "2", "3", "4"]] * 3 + [["5"]]
    (failure,) = aws.sent
    assert failure["url"] == "http://queue/failures"
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["responseContext"]["functionError"] == "Unhandled"
    info = failure["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "1",
        "4",
        4,
    )
    assert info["streamArn"] == STREAM_ARN


def test_bisecting_isolates_the_poison_record() -> None:
    pool, aws = deliver_all(lambda batch: error(batch) if "3" in batch else ok(batch), bisect=True)
    assert pool.batches == [
        ["1", "2", "3", "4"],
        ["1", "2"],
        ["3", "4", "5"],
        ["3"],
        ["3"],
        ["4", "5"],
    ]
    assert [failure["DDBStreamBatchInfo"]["startSequenceNumber"] for failure in aws.sent] == ["3"]


# ------------------------------------------------------------------ stream polling rate


class ScriptedShard:
    """One shard whose GetRecords replies hold `sizes[i]` records in turn, then close; logs
    each read and each invocation, and each of the poller's waits (`sleep`)."""

    def __init__(self, sizes: list[int]) -> None:
        self.sizes = sizes
        self.log: list[tuple[str, int | float]] = []
        self.json = self
        self._next = 0

    async def call(self, service: str, action: str, **parameters: Any) -> dict[str, Any]:
        if action == "DescribeStream":
            return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}
        if action == "GetShardIterator":
            return {"ShardIterator": "0"}
        assert action == "GetRecords"
        read = int(parameters["ShardIterator"])
        if read == len(self.sizes):
            self.log.append(("read", 0))
            return {"Records": []}  # closed: no NextShardIterator
        records = [
            {"eventName": "INSERT", "dynamodb": {"SequenceNumber": f"{read}.{n}"}}
            for n in range(self.sizes[read])
        ]
        self.log.append(("read", len(records)))
        return {"Records": records, "NextShardIterator": str(read + 1)}

    async def invoke(self, event: dict[str, Any]) -> Invocation:
        self.log.append(("invoke", len(event["Records"])))
        return ok([])


def test_a_caught_up_shard_is_read_again_a_poll_interval_after_its_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lambda reads a shard at a base rate and, having caught up, resumes that rate: a
    batch of a read that reached the shard's end is followed by a wait, not by another read
    at once (one read and one invocation per consumer per record was the local stack's
    most frequent request); a read that filled its page is followed at once."""
    monkeypatch.setattr(pollers, "_READ_LIMIT", 3)
    shard = ScriptedShard([2, 0, 3, 1])
    source = stream_source(batch_size=100)
    poller = StreamPoller(source, shard, shard, poll_interval_s=0.25)  # type: ignore[arg-type]  # the scripted shard plays both AWS and the pool
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        shard.log.append(("wait", seconds))
        await real_sleep(0)

    monkeypatch.setattr(pollers.asyncio, "sleep", sleep)
    asyncio.run(poller.run())
    assert shard.log == [
        ("read", 2),
        ("invoke", 2),
        ("wait", 0.25),  # caught up
        ("read", 0),
        ("wait", 0.25),  # nothing new
        ("read", 3),  # a full page: there may be more
        ("invoke", 3),
        ("read", 1),
        ("invoke", 1),
        ("wait", 0.25),
        ("read", 0),  # the shard closed
        ("wait", 0.25),
    ]


def test_a_stream_mapping_is_ready_once_its_shards_have_their_iterators() -> None:
    """A deployed mapping's LATEST is fixed when it is created; locally the stack reports
    started once each stream poller holds its iterators (`ready`), so that a write after the
    start is not missed."""
    shard = ScriptedShard([])
    answered = asyncio.Event()
    scripted = shard.call

    async def slow_iterators(service: str, action: str, **parameters: Any) -> dict[str, Any]:
        if action == "GetShardIterator":
            shard.log.append(("iterator", 0))
            await answered.wait()
        return await scripted(service, action, **parameters)

    shard.call = slow_iterators  # type: ignore[method-assign]  # the test slows the scripted shard's calls
    poller = StreamPoller(
        stream_source(starting_position="LATEST"), shard, shard, poll_interval_s=0
    )  # type: ignore[arg-type]  # the scripted shard plays both AWS and the pool

    async def run() -> None:
        task = asyncio.create_task(poller.run())
        for _ in range(5):
            await asyncio.sleep(0)
        assert shard.log == [("iterator", 0)]
        assert not poller.ready.is_set()
        answered.set()
        await asyncio.wait_for(poller.ready.wait(), 1)
        await asyncio.wait_for(task, 1)  # the shard closes at once

    asyncio.run(run())


class SplittingStream(ScriptedShard):
    """`shard-1` holds one record and closes; its child `shard-2` then holds two."""

    def __init__(self) -> None:
        super().__init__([])
        self.scripts = {"shard-1": [1], "shard-2": [2]}
        self.closed: set[str] = set()

    async def call(self, service: str, action: str, **parameters: Any) -> dict[str, Any]:
        if action == "DescribeStream":
            shards = [{"ShardId": "shard-1"}]
            if "shard-1" in self.closed:
                shards.append({"ShardId": "shard-2", "ParentShardId": "shard-1"})
            return {"StreamDescription": {"Shards": shards}}
        if action == "GetShardIterator":
            self.log.append((f"iterator {parameters['ShardIteratorType']}", 0))
            return {"ShardIterator": f"{parameters['ShardId']}:0"}
        shard, read = parameters["ShardIterator"].split(":")
        script = self.scripts[shard]
        if int(read) == len(script):
            self.closed.add(shard)
            return {"Records": []}
        records = [
            {"eventName": "INSERT", "dynamodb": {"SequenceNumber": f"{shard}.{n}"}}
            for n in range(script[int(read)])
        ]
        self.log.append(("read", len(records)))
        return {"Records": records, "NextShardIterator": f"{shard}:{int(read) + 1}"}


def test_a_closed_shards_children_are_followed_from_their_start() -> None:
    stream = SplittingStream()
    source = stream_source(starting_position="LATEST", batch_size=100)
    poller = StreamPoller(source, stream, stream, poll_interval_s=0)  # type: ignore[arg-type]  # the scripted stream plays both AWS and the pool
    asyncio.run(asyncio.wait_for(poller.run(), 5))
    assert [entry for entry in stream.log if entry[0] != "read"] == [
        ("iterator LATEST", 0),
        ("invoke", 1),
        ("iterator TRIM_HORIZON", 0),
        ("invoke", 2),
    ]
