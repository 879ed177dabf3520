"""Event sources against moto: a DynamoDB stream and an SQS queue feeding the fixture
application's consumers, with filters, partial batch failures, retries and dead letters."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest

from local.aws import JsonApi, JsonApiError
from local.stack import Stack
from tests.integration.conftest import Results

pytestmark = pytest.mark.integration


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def put_items(stack: Stack, *items: dict[str, str]) -> None:
    """Writes the items in one transaction, so that they reach the stream together."""
    assert stack.aws is not None
    stack.aws("dynamodb").transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": "parley-local-SourceTable",
                    "Item": {name: {"S": value} for name, value in item.items()},
                }
            }
            for item in items
        ]
    )


def queue_url(stack: Stack, logical_id: str) -> str:
    assert stack.aws is not None
    url: str = stack.aws("sqs").get_queue_url(QueueName=f"parley-local-{logical_id}")["QueueUrl"]
    return url


def receive_all(stack: Stack, logical_id: str, expected: int, timeout_s: float = 15) -> list[Any]:
    assert stack.aws is not None
    sqs, url, messages = stack.aws("sqs"), queue_url(stack, logical_id), []
    deadline = time.monotonic() + timeout_s
    while len(messages) < expected and time.monotonic() < deadline:
        reply = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages += reply.get("Messages", [])
    return messages


def test_stream_records_reach_the_consumer_and_failed_ones_are_retried(
    runtime_stack: Stack, results: Results
) -> None:
    ok, flaky, ignored = unique("item#ok-"), unique("item#flaky-"), unique("other#")
    put_items(
        runtime_stack,
        {"PK": ok, "SK": "A"},
        {"PK": flaky, "SK": "A", "behaviour": "flaky"},
        {"PK": ignored, "SK": "A"},
    )
    first = results.wait_for(f"stream/{ok}")
    results.wait_for(f"stream/{flaky}", visits=2)
    time.sleep(0.5)  # a wrong retry would visit `ok` again by now
    assert results.get(f"stream/{ok}")[0] == 1
    assert results.get(f"stream/{ignored}")[0] == 0  # the filter admits item# keys only
    record = first["record"]
    assert first["batch"] == 2  # one batch for the transaction, minus the filtered record
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventName"] == "INSERT"
    assert record["eventVersion"] == "1.1"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventSourceARN"].startswith(
        "arn:aws:dynamodb:us-east-1:123456789012:table/parley-local-SourceTable/stream/"
    )
    dynamodb = record["dynamodb"]
    assert isinstance(dynamodb["ApproximateCreationDateTime"], int)
    assert dynamodb["Keys"] == {"PK": {"S": ok}, "SK": {"S": "A"}}
    assert dynamodb["NewImage"] == {"PK": {"S": ok}, "SK": {"S": "A"}}
    assert dynamodb["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert dynamodb["SequenceNumber"]


def test_a_record_that_keeps_failing_goes_to_the_on_failure_destination(
    runtime_stack: Stack, results: Results
) -> None:
    poison = unique("item#poison-")
    put_items(runtime_stack, {"PK": poison, "SK": "A", "behaviour": "fail"})
    (message,) = receive_all(runtime_stack, "StreamFailures", expected=1)
    failure = json.loads(message["Body"])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3  # 1 + MaximumRetryAttempts
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert results.get(f"stream/{poison}")[0] == 3
    after = unique("item#after-")
    put_items(runtime_stack, {"PK": after, "SK": "A"})
    results.wait_for(f"stream/{after}")  # the shard moved on


def test_queue_messages_with_partial_failures_and_dead_letters(
    runtime_stack: Stack, results: Results
) -> None:
    assert runtime_stack.aws is not None
    sqs, url = runtime_stack.aws("sqs"), queue_url(runtime_stack, "WorkQueue")
    ids = {behaviour: unique(f"{behaviour}-") for behaviour in ("ok", "flaky", "fail", "other")}
    for behaviour, message_id in ids.items():
        body = {
            "id": message_id,
            "behaviour": behaviour,
            "kind": "skip" if behaviour == "other" else "work",
        }
        sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps(body),
            MessageAttributes={"origin": {"DataType": "String", "StringValue": "test"}},
        )
    first = results.wait_for(f"queue/{ids['ok']}")
    results.wait_for(f"queue/{ids['flaky']}", visits=2)
    results.wait_for(f"queue/{ids['fail']}", visits=2)
    (dead,) = receive_all(runtime_stack, "WorkDeadLetters", expected=1)
    assert json.loads(dead["Body"])["id"] == ids["fail"]
    assert results.get(f"queue/{ids['ok']}")[0] == 1
    assert results.get(f"queue/{ids['other']}")[0] == 0  # filtered out, and deleted
    record = first["record"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:parley-local-WorkQueue"
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["origin"]["stringValue"] == "test"
    assert record["md5OfBody"]
    assert record["receiptHandle"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        queue["ApproximateNumberOfMessages"]
        == queue["ApproximateNumberOfMessagesNotVisible"]
        == "0"
    )


def test_the_pollers_client_reads_streams_and_queues_in_wire_form(runtime_stack: Stack) -> None:
    """What the pollers' JSON client reads is what boto3 reads, in the wire form that Lambda's
    events carry: binary values in base64, the creation time in epoch seconds."""
    assert runtime_stack.aws is not None
    dynamodb, streams = runtime_stack.aws("dynamodb"), runtime_stack.aws("dynamodbstreams")
    key = unique("other#wire-")
    dynamodb.put_item(
        TableName="parley-local-SourceTable",
        Item={"PK": {"S": key}, "SK": {"S": "x"}, "blob": {"B": b"\x00\x01"}},
    )
    arn = dynamodb.describe_table(TableName="parley-local-SourceTable")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][-1]["ShardId"]

    def iterator() -> str:
        reply = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )
        return str(reply["ShardIterator"])

    def ours(records: list[Any]) -> Any:
        return next(r for r in records if r["dynamodb"]["Keys"]["PK"]["S"] == key)

    parsed = ours(streams.get_records(ShardIterator=iterator(), Limit=1000)["Records"])
    api = JsonApi(runtime_stack.aws.endpoint_url)

    async def read() -> tuple[dict[str, Any], str]:
        try:
            reply = await api.call("dynamodbstreams", "GetRecords", ShardIterator=iterator())
            with pytest.raises(JsonApiError) as refused:
                await api.call("sqs", "GetQueueUrl", QueueName=unique("missing-"))
            return ours(reply["Records"]), refused.value.code
        finally:
            await api.close()

    wire, refusal = asyncio.run(read())
    assert wire["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}
    assert parsed["dynamodb"]["NewImage"]["blob"] == {"B": b"\x00\x01"}
    created = parsed["dynamodb"].pop("ApproximateCreationDateTime")
    assert int(wire["dynamodb"].pop("ApproximateCreationDateTime")) == int(created.timestamp())
    del wire["dynamodb"]["NewImage"]["blob"], parsed["dynamodb"]["NewImage"]["blob"]
    assert wire == parsed
    assert refusal == "QueueDoesNotExist"
