"""The stack's moto server changes how moto works, never what it answers: the same requests
through moto's own WSGI application, before and after `local.moto_main.install`, get the
same replies (Query pages and GetRecords batches included, and a queue receive past a
message's retention period)."""

from __future__ import annotations

import copy
import gc
import json
import random
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID as ACCOUNT
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs.models import sqs_backends
from werkzeug.test import Client, TestResponse

from local import moto_main

TABLE = "moto-main-test"


class Moto:
    """moto's server application, called in process with the JSON requests botocore sends."""

    def __init__(self, front: bool = False) -> None:
        """`front`: the JSON-protocol front before it, as the stack's server has it."""
        application = DomainDispatcherApplication(create_backend_app)
        self._client = Client(moto_main.JsonProtocolFront(application) if front else application)

    def post(self, target: str, body: dict[str, Any]) -> TestResponse:
        service = "sqs" if target.startswith("AmazonSQS") else "dynamodb"
        return self._client.post(
            "/",
            data=json.dumps(body),
            headers={
                "X-Amz-Target": target,
                "Content-Type": "application/x-amz-json-1.0",
                "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/"
                f"{service}/aws4_request, SignedHeaders=host, Signature=0",
            },
        )

    def __call__(
        self, target: str, body: dict[str, Any], status: int | None = 200
    ) -> dict[str, Any]:
        reply = self.post(target, body)
        assert status is None or reply.status_code == status, reply.get_data(as_text=True)
        answer: dict[str, Any] = json.loads(reply.get_data(as_text=True))
        return answer

    def ddb(self, action: str, **body: Any) -> dict[str, Any]:
        return self(f"DynamoDB_20120810.{action}", body)

    def streams(self, action: str, **body: Any) -> dict[str, Any]:
        return self(f"DynamoDBStreams_20120810.{action}", body)


def _s(value: str) -> dict[str, str]:
    return {"S": value}


@pytest.fixture
def moto() -> Iterator[Moto]:
    with mock_aws():
        server = Moto()
        # Other suites may hold moto's backends open around this one: start from no table.
        server("DynamoDB_20120810.DeleteTable", {"TableName": TABLE}, status=None)
        _create_table(server)
        yield server
        server.ddb("DeleteTable", TableName=TABLE)


def _create_table(server: Moto) -> None:
    """The test table and its items: four channel partitions of messages and members."""
    server.ddb(
        "CreateTable",
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "G1PK", "G1SK")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "KeySchema": [
                    {"AttributeName": "G1PK", "KeyType": "HASH"},
                    {"AttributeName": "G1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for n in range(60):
        item = {
            "PK": _s(f"CH#{n % 4}"),
            "SK": _s(f"MSG#{n:04d}" if n % 5 else f"MEMBER#u{n:04d}"),
            "text": _s(f"message {n}"),
            "version": {"N": str(n % 7)},
            "flags": {"SS": ["a", f"f{n % 3}"]},
            "photo": {"B": "aGVsbG8="},
            "meta": {"M": {"pinned": {"BOOL": n % 2 == 0}, "gone": {"NULL": True}}},
            "path": {"L": [_s("x"), {"N": "1.5"}]},
        }
        if n % 3 == 0:  # a third of the items in the index, spread over two keys
            item |= {"G1PK": _s(f"USER#{n % 2}"), "G1SK": _s(f"{n:04d}")}
        server.ddb("PutItem", TableName=TABLE, Item=item)
    server.ddb(
        "UpdateItem",
        TableName=TABLE,
        Key={"PK": _s("CH#1"), "SK": _s("MSG#0001")},
        UpdateExpression="SET version = version + :one REMOVE photo",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    server.ddb("DeleteItem", TableName=TABLE, Key={"PK": _s("CH#2"), "SK": _s("MSG#0002")})


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": _s("CH#1")}},
    {
        # a channel's audience: its memberships, the range MEMBER# to META
        "KeyConditionExpression": "PK = :p AND SK BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":p": _s("CH#0"), ":a": _s("MEMBER#"), ":b": _s("META")},
    },
    {
        "KeyConditionExpression": "PK = :p AND begins_with(SK, :m)",
        "ExpressionAttributeValues": {":p": _s("CH#3"), ":m": _s("MSG#")},
        "ScanIndexForward": False,
        "Limit": 4,
    },
    {
        "KeyConditionExpression": "PK = :p AND SK > :s",
        "FilterExpression": "version > :v",
        "ProjectionExpression": "SK, version, meta.pinned",
        "ExpressionAttributeValues": {":p": _s("CH#2"), ":s": _s("MSG#0010"), ":v": {"N": "2"}},
    },
    {
        "KeyConditionExpression": "PK = :p AND SK = :s",
        "ExpressionAttributeValues": {":p": _s("CH#1"), ":s": _s("MSG#0013")},
    },
    {
        # a limit met at the last match, the partition going on in the scan's direction
        "KeyConditionExpression": "PK = :p AND SK <= :s",
        "ExpressionAttributeValues": {":p": _s("CH#1"), ":s": _s("MSG#0017")},
        "Limit": 2,
    },
    {
        "KeyConditionExpression": "PK = :p AND SK < :s",
        "ExpressionAttributeValues": {":p": _s("CH#2"), ":s": _s("MEMBER#")},
    },
    {
        "KeyConditionExpression": "PK = :p",
        "Select": "COUNT",
        "ExpressionAttributeValues": {":p": _s("CH#1")},
    },
    {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": _s("CH#9")}},
    {
        "IndexName": "GSI1",
        "KeyConditionExpression": "G1PK = :u",
        "ExpressionAttributeValues": {":u": _s("USER#0")},
    },
    {
        "IndexName": "GSI1",
        "KeyConditionExpression": "G1PK = :u AND G1SK >= :from",
        "ExpressionAttributeValues": {":u": _s("USER#1"), ":from": _s("0020")},
        "ScanIndexForward": False,
        "Limit": 3,
    },
]


def _all_pages(moto: Moto, query: dict[str, Any]) -> list[dict[str, Any]]:
    pages, start = [], None
    while True:
        page = moto.ddb(
            "Query", TableName=TABLE, **query, **({"ExclusiveStartKey": start} if start else {})
        )
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


def _stream_batches(moto: Moto, limit: int) -> list[dict[str, Any]]:
    """The whole stream from its start, `limit` records a call (iterators left out: they
    are new every call)."""
    arn = moto.ddb("DescribeTable", TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = moto.streams("DescribeStream", StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = moto.streams(
        "GetShardIterator",
        StreamArn=arn,
        ShardId=shard["ShardId"],
        ShardIteratorType="TRIM_HORIZON",
    )["ShardIterator"]
    batches = []
    while True:
        batch = moto.streams("GetRecords", ShardIterator=iterator, Limit=limit)
        iterator = batch.pop("NextShardIterator")
        batches.append(batch)
        if not batch["Records"]:
            return batches


def test_queries_answer_as_stock_moto_does(moto: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    stock = [_all_pages(moto, query) for query in QUERIES]
    moto_main.install(monkeypatch.setattr)
    assert [_all_pages(moto, query) for query in QUERIES] == stock
    assert len(stock[2]) > 1  # the limited query was paged
    assert stock[8] == [{"Count": 0, "Items": [], "ScannedCount": 0}]


def test_queries_on_sorted_partitions_answer_as_stock_moto_does(
    moto: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock = [_all_pages(moto, query) for query in QUERIES]
    moto_main.install(monkeypatch.setattr)
    moto.ddb("DeleteTable", TableName=TABLE)
    _create_table(moto)  # made after install: its partitions keep their sort keys in order
    table = dynamodb_backends[ACCOUNT]["us-east-1"].tables[TABLE]
    assert all(isinstance(p, moto_main.SortedPartition) for p in table.items.values())
    assert [_all_pages(moto, query) for query in QUERIES] == stock


def _n(value: int | str) -> DynamoType:
    return DynamoType({"N": str(value)})


def test_a_sorted_partition_finds_what_a_scan_of_its_keys_finds() -> None:
    """Random puts, overwrites, pops and deletes on string and number keys; after each,
    the order is the keys sorted, and every kind of sort key condition selects the same
    items (matches and their neighbours) as `_matches_and_neighbours`' scan."""
    rng = random.Random(7)
    for make in (lambda k: DynamoType({"S": f"K#{k:03d}"}), lambda k: _n(k - 20)):
        partition = moto_main.SortedPartition()
        for step in range(300):
            key = make(rng.randrange(60))
            action = rng.random()
            if action < 0.6:
                partition[key] = f"item {step}"
            elif action < 0.8:
                partition.pop(key, None)
            elif key in partition:
                del partition[key]
            if step % 10:
                continue
            copied = copy.deepcopy(partition)
            for probe in (partition, copied):
                assert probe._order == sorted(probe, key=lambda k: k.cast_value)
            bounds = [make(rng.randrange(-5, 65)) for _ in range(2)]
            conditions = [(c, [bounds[0]]) for c in ("=", "<", "<=", ">", ">=")]
            conditions.append(("BETWEEN", sorted(bounds, key=lambda k: k.cast_value)))
            if bounds[0].type == "S":
                prefixes = ("K#0", "K#05", "L")
                conditions += [("BEGINS_WITH", [DynamoType({"S": p})]) for p in prefixes]
            for comparison, objs in conditions:
                expected = moto_main._matches_and_neighbours(dict(partition), comparison, objs)
                found = partition.matches_and_neighbours(comparison, tuple(objs))
                assert found is not None
                assert sorted(found) == sorted(expected), (comparison, objs)
    assert moto_main.SortedPartition().matches_and_neighbours("CONTAINS", (_n(1),)) is None


def _item_answers(moto: Moto) -> list[dict[str, Any]]:
    """Each item action once, every kind of attribute value in its answer; run twice, the
    writes answer the same (they set what is already set)."""
    key = {"PK": _s("CH#0"), "SK": _s("MSG#0004")}
    stored = moto.ddb("GetItem", TableName=TABLE, Key=key)["Item"]
    total = {"ReturnConsumedCapacity": "TOTAL"}
    missing = {"PK": _s("CH#0"), "SK": _s("MSG#none")}
    return [
        moto.ddb("GetItem", TableName=TABLE, Key=key, **total),
        moto.ddb("GetItem", TableName=TABLE, Key=missing),
        moto.ddb("PutItem", TableName=TABLE, Item=stored, ReturnValues="ALL_OLD", **total),
        moto.ddb(
            "UpdateItem",
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET photo = :b",
            ExpressionAttributeValues={":b": {"B": "aGVsbG8="}},
            ReturnValues="ALL_NEW",
        ),
        moto.ddb("DeleteItem", TableName=TABLE, Key=missing, ReturnValues="ALL_OLD"),
        moto.ddb(
            "BatchGetItem",
            RequestItems={
                TABLE: {"Keys": [key, missing, {"PK": _s("CH#1"), "SK": _s("MSG#0001")}]}
            },
            **total,
        ),
        moto.ddb("BatchWriteItem", RequestItems={TABLE: [{"PutRequest": {"Item": stored}}]}),
        moto.ddb("TransactGetItems", TransactItems=[{"Get": {"TableName": TABLE, "Key": key}}]),
        moto.ddb(
            "TransactWriteItems", TransactItems=[{"Put": {"TableName": TABLE, "Item": stored}}]
        ),
        moto.ddb("Scan", TableName=TABLE, Limit=7, **total),
    ]


def test_item_actions_answer_as_stock_moto_does(
    moto: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock = _item_answers(moto)
    moto_main.install(monkeypatch.setattr)
    assert _item_answers(moto) == stock
    assert stock[0]["Item"]["photo"] == {"B": "aGVsbG8="}
    assert stock[1] == {}


def test_a_query_of_a_missing_partition_does_not_create_it(
    moto: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_main.install(monkeypatch.setattr)
    before = moto.ddb("Scan", TableName=TABLE)
    moto.ddb(
        "Query",
        TableName=TABLE,
        KeyConditionExpression="PK = :p",
        ExpressionAttributeValues={":p": _s("CH#nowhere")},
    )
    assert moto.ddb("Scan", TableName=TABLE) == before


def test_stream_records_are_the_bytes_stock_moto_would_have_parsed_to(
    moto: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock = _stream_batches(moto, limit=25)
    moto_main.install(monkeypatch.setattr)
    assert _stream_batches(moto, limit=25) == stock
    records = [record for batch in stock for record in batch["Records"]]
    assert [r["eventName"] for r in records].count("MODIFY") == 1
    assert [r["eventName"] for r in records].count("REMOVE") == 1
    assert len(records) == 62
    assert isinstance(records[0]["dynamodb"]["ApproximateCreationDateTime"], int | float)


def _cancelled_transaction(moto: Moto) -> None:
    """A put that would succeed, then a condition that fails: nothing may be written."""
    moto(
        "DynamoDB_20120810.TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": TABLE, "Item": {"PK": _s("CH#0"), "SK": _s("MSG#9999")}}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"PK": _s("CH#1"), "SK": _s("MSG#0001")},
                        "UpdateExpression": "SET version = :v",
                        "ConditionExpression": "attribute_not_exists(PK)",
                        "ExpressionAttributeValues": {":v": {"N": "100"}},
                    }
                },
            ]
        },
        status=400,
    )


def _latest_iterator(moto: Moto) -> str:
    arn = moto.ddb("DescribeTable", TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = moto.streams("DescribeStream", StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator: str = moto.streams(
        "GetShardIterator", StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
    )["ShardIterator"]
    return iterator


def test_a_cancelled_transaction_leaves_the_table_and_its_stream_as_they_were(
    moto: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_main.install(monkeypatch.setattr)
    before = moto.ddb("Scan", TableName=TABLE)
    iterator = _latest_iterator(moto)
    _cancelled_transaction(moto)
    assert moto.ddb("Scan", TableName=TABLE) == before
    moto.ddb("PutItem", TableName=TABLE, Item={"PK": _s("CH#0"), "SK": _s("MSG#after")})
    # the iterator taken before still reads the live stream: the put, and nothing cancelled
    records = moto.streams("GetRecords", ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["SK"] for r in records] == [_s("MSG#after")]


def test_stock_moto_strands_the_stream_readers_after_a_cancelled_transaction(moto: Moto) -> None:
    """Why the stack's stream consumers went quiet after a webhook post or a fuzz run (both
    cancel transactions: a rate limit, a repeated clientMsgId): stock moto puts back a deep
    copy of the table, stream shard and all, so a reader already open gets the cancelled
    write as if it had happened, then reads the orphaned shard forever. The test above is
    the fix; this one shows what it fixes, so a moto upgrade that changes it is noticed."""
    iterator = _latest_iterator(moto)
    _cancelled_transaction(moto)
    moto.ddb("PutItem", TableName=TABLE, Item={"PK": _s("CH#0"), "SK": _s("MSG#after")})
    first = moto.streams("GetRecords", ShardIterator=iterator)
    assert [r["dynamodb"]["Keys"]["SK"] for r in first["Records"]] == [_s("MSG#9999")]
    later = moto.streams("GetRecords", ShardIterator=first["NextShardIterator"])
    assert later["Records"] == []  # the put after it is never seen


def _receive_with_one_message_expired() -> list[str]:
    """What a receive hands out from a 60 s queue of three, the second sent 61 s ago."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        # A new queue each time: other suites may hold moto's backends open around this one.
        name = f"moto-main-retention-{uuid.uuid4().hex}"
        url = sqs.create_queue(QueueName=name, Attributes={"MessageRetentionPeriod": "60"})[
            "QueueUrl"
        ]
        for n in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
        queue = sqs_backends["123456789012"]["us-east-1"].get_queue(name)
        expired = next(m for m in queue._messages if m.body == "m1")
        expired.sent_timestamp -= 61_000
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        return [m["Body"] for m in received]


def test_a_queue_checks_retention_as_stock_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    stock = _receive_with_one_message_expired()
    moto_main.install(monkeypatch.setattr)
    # moto stops at the first expired message: what it handed out before that, as before
    assert _receive_with_one_message_expired() == stock == ["m0"]


def _receive_one(sqs: Any, url: str) -> list[str]:
    """The body of the one message a ReceiveMessage gets, or nothing."""
    reply = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
    return [m["Body"] for m in reply.get("Messages", [])]


def _receives_around_in_flight_and_delayed_messages() -> list[list[str]]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName=f"moto-main-visibility-{uuid.uuid4().hex}")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="now")
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
        sqs.send_message(QueueUrl=url, MessageBody="next")

        return [_receive_one(sqs, url) for _ in range(3)]


def test_in_flight_and_delayed_messages_stay_hidden_as_in_stock_moto(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stock = _receives_around_in_flight_and_delayed_messages()
    moto_main.install(monkeypatch.setattr)
    assert _receives_around_in_flight_and_delayed_messages() == stock == [["now"], ["next"], []]


def _receives_from_a_fifo_queue_with_a_group_in_flight() -> list[list[str]]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(
            QueueName=f"moto-main-groups-{uuid.uuid4().hex[:20]}.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        )["QueueUrl"]
        for body, group in (("a1", "a"), ("a2", "a"), ("b1", "b")):
            sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)

        return [_receive_one(sqs, url) for _ in range(3)]


def test_a_fifo_queue_holds_back_a_group_in_flight_as_stock_moto_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stock = _receives_from_a_fifo_queue_with_a_group_in_flight()
    moto_main.install(monkeypatch.setattr)
    assert _receives_from_a_fifo_queue_with_a_group_in_flight() == stock == [["a1"], ["b1"], []]


def test_a_standard_queue_has_no_pending_groups_to_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    moto_main.install(monkeypatch.setattr)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        name = f"moto-main-standard-{uuid.uuid4().hex}"
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="in flight")
        assert sqs.receive_message(QueueUrl=url)["Messages"]
        queue = sqs_backends["123456789012"]["us-east-1"].get_queue(name)
        assert len(queue._pending_messages) == 1
        assert queue.pending_message_groups == set()


def _counts_of_a_queue_with_visible_in_flight_and_delayed_messages() -> dict[str, str]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName=f"moto-main-counts-{uuid.uuid4().hex}")["QueueUrl"]
        for body in ("in flight", "in flight too", "visible", "visible too", "visible three"):
            sqs.send_message(QueueUrl=url, MessageBody=body)
        sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=60)
        assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]) == 2
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return {name: attributes[name] for name in names}


def test_a_queue_counts_its_messages_as_stock_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    stock = _counts_of_a_queue_with_visible_in_flight_and_delayed_messages()
    moto_main.install(monkeypatch.setattr)
    assert _counts_of_a_queue_with_visible_in_flight_and_delayed_messages() == stock
    # moto counts a delayed message as delayed only, not also as not visible.
    assert stock == {
        "ApproximateNumberOfMessages": "3",
        "ApproximateNumberOfMessagesNotVisible": "2",
        "ApproximateNumberOfMessagesDelayed": "1",
    }


class _CountedList(list[Any]):
    """A queue's message list that counts the passes over it."""

    passes = 0

    def __iter__(self) -> Iterator[Any]:
        type(self).passes += 1
        return super().__iter__()


def test_sending_to_a_standard_queue_does_not_pass_over_its_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moto_main.install(monkeypatch.setattr)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        name = f"moto-main-send-{uuid.uuid4().hex}"
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        for n in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=f"before {n}")
        queue = sqs_backends["123456789012"]["us-east-1"].get_queue(name)
        monkeypatch.setattr(_CountedList, "passes", 0)
        queue._messages = _CountedList(queue._messages)
        sqs.send_message(QueueUrl=url, MessageBody="single")
        entries = [{"Id": str(n), "MessageBody": f"batch {n}"} for n in range(5)]
        assert len(sqs.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]) == 5
        assert _CountedList.passes == 0  # stock moto: three passes per message sent
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "9"


def _fifo_receives_after_duplicates() -> list[str]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(
            QueueName=f"moto-main-dedup-{uuid.uuid4().hex[:20]}.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        )["QueueUrl"]
        for body in ("same", "same", "other"):
            sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
        entries = [{"Id": "1", "MessageBody": "other", "MessageGroupId": "g"}]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
        reply = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        return [m["Body"] for m in reply.get("Messages", [])]


def test_a_fifo_queue_deduplicates_by_content_as_stock_moto_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stock = _fifo_receives_after_duplicates()
    moto_main.install(monkeypatch.setattr)
    assert _fifo_receives_after_duplicates() == stock == ["same", "other"]


def _sequence_numbers_of_concurrent_puts() -> tuple[int, int]:
    """(records, distinct sequence numbers) after 8 threads put 300 items each, switching
    threads as often as the interpreter allows."""
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="concurrent",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        table = dynamodb_backends["123456789012"]["us-east-1"].tables["concurrent"]

        def put(thread: int) -> None:
            for n in range(300):
                table.put_item({"PK": {"S": f"{thread}-{n}"}})

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        try:
            threads = [threading.Thread(target=put, args=(k,)) for k in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            sys.setswitchinterval(interval)
        numbers = [
            record.record["dynamodb"]["SequenceNumber"] for record in table.stream_shard.items
        ]
        return len(numbers), len(set(numbers))


def test_concurrent_writes_get_distinct_stream_sequence_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moto_main.install(monkeypatch.setattr)
    assert _sequence_numbers_of_concurrent_puts() == (2400, 2400)


def _json_protocol_session(front: bool) -> list[tuple[int, str, str, Any]]:
    """A table with its stream and a queue, used the way the stack uses them, through moto's
    application or through the JSON-protocol front before it: each reply's status, type,
    error type and the parts of its body that do not change from run to run."""
    replies: list[tuple[int, str, str, Any]] = []
    # Names of their own (other suites may hold moto's backends open around this one), read
    # back as NAME in the answers.
    name = f"front-{uuid.uuid4().hex[:8]}"
    with mock_aws():
        moto = Moto(front)

        def call(target: str, body: dict[str, Any], keep: Any = lambda answer: answer) -> Any:
            reply = moto.post(target, body)
            text = reply.get_data(as_text=True) or "{}"
            answer, named = json.loads(text), json.loads(text.replace(name, "NAME"))
            headers = reply.headers
            kept = keep(named) if reply.status_code == 200 else named
            error_type = headers.get("x-amzn-ErrorType", "")
            replies.append((reply.status_code, headers.get("Content-Type", ""), error_type, kept))
            return answer

        ddb = "DynamoDB_20120810."
        table = {"TableName": name}
        key = {"PK": _s("a"), "SK": _s("1")}
        call(
            ddb + "CreateTable",
            {
                **table,
                "KeySchema": [
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "SK", "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [
                    {"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK")
                ],
                "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            },
            keep=lambda answer: answer["TableDescription"]["KeySchema"],
        )
        call(ddb + "PutItem", {**table, "Item": {**key, "text": _s("hi")}})
        exists = {"ConditionExpression": "attribute_not_exists(PK)"}
        call(ddb + "PutItem", {**table, "Item": key, **exists})  # 400: the condition
        call(ddb + "GetItem", {**table, "Key": key})
        call(
            ddb + "UpdateItem",
            {
                **table,
                "Key": key,
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
                "ReturnValues": "ALL_NEW",
            },
        )
        call(
            ddb + "Query",
            {
                **table,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": _s("a")},
            },
        )
        call(
            ddb + "BatchGetItem",
            {"RequestItems": {name: {"Keys": [key]}}},
            keep=lambda answer: answer["Responses"]["NAME"],
        )
        call(ddb + "GetItem", {"TableName": "missing", "Key": key})  # 400: no such table
        streams = "DynamoDBStreams_20120810."
        arn = call(streams + "ListStreams", table, keep=len)["Streams"][0]["StreamArn"]
        shard = call(streams + "DescribeStream", {"StreamArn": arn}, keep=len)
        iterator = call(
            streams + "GetShardIterator",
            {
                "StreamArn": arn,
                "ShardId": shard["StreamDescription"]["Shards"][0]["ShardId"],
                "ShardIteratorType": "TRIM_HORIZON",
            },
            keep=len,
        )["ShardIterator"]
        call(
            streams + "GetRecords",
            {"ShardIterator": iterator},
            keep=lambda answer: [
                (r["eventName"], r["dynamodb"]["NewImage"]) for r in answer["Records"]
            ],
        )
        url = call("AmazonSQS.CreateQueue", {"QueueName": name}, keep=len)["QueueUrl"]
        call(
            "AmazonSQS.SendMessage",
            {"QueueUrl": url, "MessageBody": "hello"},
            keep=lambda answer: answer["MD5OfMessageBody"],
        )
        call(
            "AmazonSQS.ReceiveMessage",
            {"QueueUrl": url, "MaxNumberOfMessages": 10},
            keep=lambda answer: [m["Body"] for m in answer["Messages"]],
        )
        call("AmazonSQS.GetQueueUrl", {"QueueName": "missing"})  # 400: no such queue
    return replies


def test_the_json_protocol_front_answers_as_moto_s_application_does() -> None:
    stock = _json_protocol_session(front=False)
    assert [status for status, *_ in stock].count(400) == 3
    assert _json_protocol_session(front=True) == stock


def test_the_json_protocol_front_passes_everything_else_to_moto() -> None:
    seen: list[str] = []

    def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ.get("HTTP_X_AMZ_TARGET") or environ["PATH_INFO"])
        start_response("204 No Content", [])
        return []

    client = Client(moto_main.JsonProtocolFront(application))
    client.put("/bucket/key", data=b"x")  # S3
    client.post("/", headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
    client.get("/", headers={"X-Amz-Target": "DynamoDB_20120810.GetItem"})  # not a POST
    assert seen == [
        "/bucket/key",
        "AWSCognitoIdentityProviderService.InitiateAuth",
        "DynamoDB_20120810.GetItem",
    ]


# ------------------------------------------------------------------ the asyncio front


@pytest.mark.parametrize(
    ("method", "target", "body", "on_loop"),
    [
        ("POST", "DynamoDB_20120810.PutItem", b"{}", True),
        ("POST", "DynamoDB_20120810.Query", b'{"TableName":"t"}', True),
        ("POST", "DynamoDB_20120810.Query", b'{"TableName":"t","IndexName":"GSI1"}', False),
        ("POST", "DynamoDB_20120810.Scan", b"{}", False),
        ("POST", "DynamoDB_20120810.CreateTable", b"{}", False),
        ("POST", "DynamoDBStreams_20120810.GetRecords", b"{}", True),
        ("POST", "AmazonSQS.SendMessageBatch", b"{}", True),
        ("POST", "AmazonSQS.ReceiveMessage", b'{"WaitTimeSeconds":0}', True),
        ("POST", "AmazonSQS.ReceiveMessage", b'{"WaitTimeSeconds":5}', False),
        ("POST", "AmazonSQS.ReceiveMessage", b"{}", False),  # the queue's wait applies
        ("POST", "AmazonSQS.ReceiveMessage", b"not json", False),
        ("POST", "AmazonSQS.ReceiveMessage", b"[]", False),
        ("POST", "AmazonSQS.CreateQueue", b"{}", False),
        ("GET", "DynamoDB_20120810.GetItem", b"", False),
        ("POST", "", b"Action=Publish", False),  # SNS, S3, Cognito: moto's application
    ],
)
def test_what_runs_on_the_event_loop(method: str, target: str, body: bytes, on_loop: bool) -> None:
    assert moto_main.runs_on_loop(method, target, body) is on_loop


def test_the_wsgi_environment_is_waitress_s() -> None:
    from aiohttp.test_utils import make_mocked_request
    from multidict import CIMultiDict

    headers = CIMultiDict(
        [
            ("Host", "127.0.0.1:5000"),
            ("Content-Type", "text/plain"),
            ("Content-Length", "3"),
            ("X-Amz-Meta-A", "1"),
            ("X-Amz-Meta-A", "2"),
            ("X_Spoofed", "no"),
            ("Transfer-Encoding", "chunked"),
        ]
    )
    request = make_mocked_request("PUT", "//files/team%20files/r%C3%A9sum%C3%A9?x=1", headers)
    environ = moto_main.wsgi_environ(request, b"abc", 5000)
    assert environ["PATH_INFO"] == "/files/team files/r\xc3\xa9sum\xc3\xa9"  # latin-1, as WSGI
    assert environ["REQUEST_URI"] == "//files/team%20files/r%C3%A9sum%C3%A9?x=1"
    assert environ["QUERY_STRING"] == "x=1"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "3"
    assert environ["HTTP_X_AMZ_META_A"] == "1,2"
    assert environ["HTTP_HOST"] == "127.0.0.1:5000"
    assert environ["wsgi.input"].read() == b"abc"
    assert "HTTP_X_SPOOFED" not in environ
    assert "HTTP_TRANSFER_ENCODING" not in environ
    assert "HTTP_CONTENT_TYPE" not in environ
    assert "HTTP_CONTENT_LENGTH" not in environ


def test_a_full_collection_freezes_its_survivors_and_a_young_one_does_not() -> None:
    before = list(gc.callbacks)
    moto_main._old_objects_stay_frozen()
    try:
        gc.unfreeze()
        gc.collect(1)
        assert gc.get_freeze_count() == 0
        gc.collect(2)
        assert gc.get_freeze_count() > 0
    finally:
        gc.callbacks[:] = before
        gc.unfreeze()


def test_moto_in_process_answers_one_request_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.botocore_stubber import BotocoreStubber

    inside, most = [0], [0]

    def slow(self: BotocoreStubber, request: Any) -> None:
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.02)
        inside[0] -= 1

    monkeypatch.setattr(BotocoreStubber, "process_request", slow)
    stubber = BotocoreStubber()
    with moto_main.one_request_at_a_time():
        threads = [threading.Thread(target=stubber.process_request, args=(None,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert most[0] == 1
    assert BotocoreStubber.process_request is slow  # put back
