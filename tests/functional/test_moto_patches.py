"""The stack's moto server (`local/moto_main.py`) against stock moto. Each change it makes to
moto (`moto_main.PATCHES`, and `one_request_at_a_time` for moto in process) has

- a reproduction, parametrized over `patched` (the change alone, or over the one it
  serves, made with the test's monkeypatch) and `stock` (moto as pinned): the same
  scenario, asserting what the change gives. The stock case is a strict xfail: when a moto
  upgrade makes it pass, that test fails and names the change that moto no longer needs.
  Most changes cut a cost, so their scenario counts the work moto does (directory
  listings, items read, keys cast, serializer calls, table copies, clock readings, passes
  over a queue), never a time; three fix moto bugs, which their scenario provokes
  deterministically (a stranded stream reader, two stream records with one sequence
  number, a set changed during its iteration), as does the race that
  `one_request_at_a_time` prevents.
- its answers: the same requests, before and after `moto_main.install`, get the same
  replies (Query pages and GetRecords batches included, and a queue receive past a
  message's retention period).

Then the server's own parts: the JSON-protocol front, what runs on the event loop, the WSGI
environment, the garbage collection."""

from __future__ import annotations

import contextlib
import copy
import gc
import inspect
import json
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import __version__ as MOTO_VERSION
from moto import backends, mock_aws
from moto.core import DEFAULT_ACCOUNT_ID as ACCOUNT
from moto.core import utils as moto_utils
from moto.core.serialize import ResponseSerializer
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models import table as dynamodb_table
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs import models as sqs_models
from moto.sqs.models import Queue, sqs_backends
from werkzeug.test import Client, TestResponse

from local import moto_main

TABLE = "moto-main-test"

PATCHED = pytest.param(True, id="patched")


def stock_fails(reason: str) -> Any:
    """The stock case of a reproduction: fails on the pinned moto for `reason`. A moto
    that passes it no longer needs the change (strict: the pass fails the run)."""
    return pytest.param(
        False,
        id="stock",
        marks=pytest.mark.xfail(
            strict=True, raises=AssertionError, reason=f"moto {MOTO_VERSION}: {reason}"
        ),
    )


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
    iterator = _iterator(moto, "TRIM_HORIZON")
    batches = []
    while True:
        batch = moto.streams("GetRecords", ShardIterator=iterator, Limit=limit)
        iterator = batch.pop("NextShardIterator")
        batches.append(batch)
        if not batch["Records"]:
            return batches


def _iterator(moto: Moto, kind: str) -> str:
    arn = moto.ddb("DescribeTable", TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = moto.streams("DescribeStream", StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator: str = moto.streams(
        "GetShardIterator", StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=kind
    )["ShardIterator"]
    return iterator


def _serializer_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the operation of each value that moto's model-driven serializer writes."""
    calls: list[str] = []
    inner = ResponseSerializer._serialize

    def serialize(self: ResponseSerializer, *args: Any, **kwargs: Any) -> Any:
        calls.append(self.operation_model.name)
        return inner(self, *args, **kwargs)

    monkeypatch.setattr(ResponseSerializer, "_serialize", serialize)
    return calls


# ------------------------------------------------------------------ moto's request dispatch


@pytest.mark.parametrize(
    "patched", [PATCHED, stock_fails("lists its package directory to find each request's service")]
)
def test_list_modules_once(patched: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if patched:
        moto_main.list_modules_once(monkeypatch.setattr)
    listings: list[str] = []

    def listdir(path: str) -> list[str]:
        listings.append(path)
        return os.listdir(path)

    monkeypatch.setattr(backends, "os", SimpleNamespace(path=os.path, listdir=listdir))
    with mock_aws():
        server = Moto()  # moto's own application, as its server runs it
        for _ in range(5):
            assert "TableNames" in server.ddb("ListTables")
    assert listings == []


@pytest.mark.parametrize(
    "patched", [PATCHED, stock_fails("lists the response class's methods to find each handler")]
)
def test_find_handlers_once(patched: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if patched:
        moto_main.find_handlers_once(monkeypatch.setattr)
    listed: list[Any] = []
    getmembers = inspect.getmembers

    def listing(target: Any, predicate: Any = None) -> Any:
        listed.append(target)
        return getmembers(target, predicate)

    with mock_aws():
        server = Moto()
        server.ddb("ListTables")  # the class's first request finds its handlers
        monkeypatch.setattr(inspect, "getmembers", listing)
        for _ in range(5):
            assert "TableNames" in server.ddb("ListTables")
    assert DynamoHandler not in listed


# ------------------------------------------------------------------ DynamoDB: Query


def _channels(name: str, channels: int, messages: int) -> Any:
    """A table of `channels` partitions of `messages` items each, written in random order
    (so that sorting them takes work); every tenth item is in the index GSI1, under one key."""
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(
        TableName=name,
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
    )
    keys = [(c, m) for c in range(channels) for m in range(messages)]
    random.Random(5).shuffle(keys)
    for c, m in keys:
        item = {"PK": _s(f"CH#{c}"), "SK": _s(f"MSG#{m:04d}")}
        if m % 10 == 0:
            item |= {"G1PK": _s("USER#0"), "G1SK": _s(f"{c}-{m:04d}")}
        ddb.put_item(TableName=name, Item=item)
    return ddb


def _items_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, how many items each `Table.all_items` hands to the Query that asked."""
    read: list[int] = []
    inner = Table.all_items

    def all_items(self: Table) -> list[Any]:
        items = inner(self)
        read.append(len(items))
        return items

    monkeypatch.setattr(Table, "all_items", all_items)
    return read


@pytest.mark.parametrize(
    "patched",
    [PATCHED, stock_fails("a Query sorts every item of the table, then keeps its partition")],
)
def test_a_base_table_query_reads_its_matches(
    patched: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if patched:
        moto_main.query_the_partition(monkeypatch.setattr)
    name = f"channels-{uuid.uuid4().hex[:8]}"
    with mock_aws():
        ddb = _channels(name, channels=4, messages=50)
        read = _items_read(monkeypatch)
        items = ddb.query(
            TableName=name,
            KeyConditionExpression="PK = :p AND SK = :s",
            ExpressionAttributeValues={":p": _s("CH#1"), ":s": _s("MSG#0013")},
        )["Items"]
    assert items == [{"PK": _s("CH#1"), "SK": _s("MSG#0013")}]
    # the match and its two neighbours, on which moto's paging decides; not the table's 200
    assert read == [3]


@pytest.mark.parametrize(
    "patched", [PATCHED, stock_fails("an index Query sorts every item of the table first")]
)
def test_an_index_query_sorts_only_its_matches(
    patched: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if patched:
        moto_main.query_the_partition(monkeypatch.setattr)
    name = f"channels-{uuid.uuid4().hex[:8]}"
    comparisons = [0]
    less_than = DynamoType.__lt__

    def counted(self: DynamoType, other: DynamoType) -> bool:
        comparisons[0] += 1
        return less_than(self, other)

    with mock_aws():
        ddb = _channels(name, channels=4, messages=50)
        monkeypatch.setattr(DynamoType, "__lt__", counted)
        items = ddb.query(
            TableName=name,
            IndexName="GSI1",
            KeyConditionExpression="G1PK = :u",
            ExpressionAttributeValues={":u": _s("USER#0")},
        )["Items"]
    expected = sorted(f"{c}-{m:04d}" for c in range(4) for m in range(0, 50, 10))
    assert [item["G1SK"]["S"] for item in items] == expected
    # sorting its 20 matches takes about a hundred comparisons; the table's 200 items, more
    assert comparisons[0] < 200


@pytest.mark.parametrize(
    "patched",
    [PATCHED, stock_fails("an index Query walks the live partitions that writes add to")],
)
def test_an_index_query_walks_a_copy_of_the_partitions(
    patched: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local server answers Queries on request threads while other threads write: a
    partition added mid-walk (here by the walk itself, deterministically) failed an index
    Query with a 500 ("dictionary changed size during iteration")."""
    if patched:
        moto_main.query_the_partition(monkeypatch.setattr)
    name = f"channels-{uuid.uuid4().hex[:8]}"
    with mock_aws():
        ddb = _channels(name, channels=4, messages=20)
        table = dynamodb_backends[ACCOUNT]["us-east-1"].tables[name]
        first = next(iter(table.items))
        kind = type(table.items[first])

        class Writing(kind):  # type: ignore[misc,valid-type]  # moto's partition type, known only at run time
            def values(self) -> Any:
                table.items[DynamoType({"S": "CH#new"})] = kind()  # another thread's write
                return super().values()

        table.items[first] = Writing(table.items[first])
        try:
            items = ddb.query(
                TableName=name,
                IndexName="GSI1",
                KeyConditionExpression="G1PK = :u",
                ExpressionAttributeValues={":u": _s("USER#0")},
            )["Items"]
        except Exception as error:  # moto's error, whatever it raises
            raise AssertionError(f"the index Query failed: {error!r}") from error
    assert len(items) == 4 * 2  # messages 0 and 10 of each channel


@pytest.mark.parametrize(
    "patched",
    [
        PATCHED,
        stock_fails("(with query_the_partition) a Query casts every sort key of its partition"),
    ],
)
def test_a_query_bisects_a_sorted_partition(patched: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    moto_main.query_the_partition(monkeypatch.setattr)  # sorted_partitions serves it
    if patched:
        moto_main.sorted_partitions(monkeypatch.setattr)
    name = f"channel-{uuid.uuid4().hex[:8]}"
    casts = [0]
    cast_value = DynamoType.cast_value

    def counted(self: DynamoType) -> Any:
        casts[0] += 1
        return cast_value.fget(self)  # type: ignore[attr-defined]  # a property, as moto defines it

    with mock_aws():
        ddb = _channels(name, channels=1, messages=300)
        monkeypatch.setattr(DynamoType, "cast_value", property(counted))
        items = ddb.query(
            TableName=name,
            KeyConditionExpression="PK = :p AND SK BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":p": _s("CH#0"),
                ":a": _s("MSG#0100"),
                ":b": _s("MSG#0104"),
            },
        )["Items"]
    assert [item["SK"]["S"] for item in items] == [f"MSG#{m:04d}" for m in range(100, 105)]
    assert casts[0] < 300  # fewer than the partition has sort keys


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


SCANS: list[dict[str, Any]] = [
    {},
    {"Limit": 7},  # pages that start inside a partition and at its end
    {
        "Limit": 15,
        "FilterExpression": "version > :v",
        "ExpressionAttributeValues": {":v": {"N": "2"}},
    },
    {"Limit": 4, "ProjectionExpression": "PK, SK, meta.pinned"},
    {"Limit": 9, "IndexName": "GSI1"},  # left to moto
]


def _scan_pages(moto: Moto, scan: dict[str, Any]) -> list[dict[str, Any]]:
    pages, start = [], None
    while True:
        page = moto.ddb(
            "Scan", TableName=TABLE, **scan, **({"ExclusiveStartKey": start} if start else {})
        )
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


@pytest.mark.parametrize(
    "patched",
    [PATCHED, stock_fails("a Scan page sorts the table and walks it from its first item")],
)
def test_a_scan_page_resumes_at_its_key(
    patched: bool, moto: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    if patched:
        moto_main.scans_resume_at_their_key(monkeypatch.setattr)
    walked = [0]
    comes_before = Table._item_comes_before_dct

    def counted(self: Table, *args: Any, **kwargs: Any) -> bool:
        walked[0] += 1
        return comes_before(self, *args, **kwargs)

    monkeypatch.setattr(Table, "_item_comes_before_dct", counted)
    pages = _scan_pages(moto, {"Limit": 5})
    assert sum(page["Count"] for page in pages) == 59  # the table's items, each once
    assert walked[0] <= len(pages)  # one look at the start key a page, not the pages before it


def test_scans_answer_as_stock_moto_does(moto: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    stock = [_scan_pages(moto, scan) for scan in SCANS]
    moto_main.install(monkeypatch.setattr)
    assert [_scan_pages(moto, scan) for scan in SCANS] == stock  # unsorted partitions
    moto.ddb("DeleteTable", TableName=TABLE)
    _create_table(moto)  # made after install: sorted partitions
    assert [_scan_pages(moto, scan) for scan in SCANS] == stock
    assert len(stock[1]) > 5  # paged


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


# ------------------------------------------------------------------ DynamoDB: answers


@pytest.mark.parametrize(
    "patched", [PATCHED, stock_fails("GetRecords walks each record through the model's serializer")]
)
def test_stream_records_as_json(patched: bool, moto: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    if patched:
        moto_main.stream_records_as_json(monkeypatch.setattr)
    iterator = _iterator(moto, "TRIM_HORIZON")
    calls = _serializer_calls(monkeypatch)
    batch = moto.streams("GetRecords", ShardIterator=iterator)
    assert len(batch["Records"]) == 62
    assert calls == []


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


@pytest.mark.parametrize(
    "patched",
    [
        PATCHED,
        stock_fails("an item action's answer walks the model, attribute value by attribute value"),
    ],
)
def test_item_answers_as_json(patched: bool, moto: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    if patched:
        moto_main.item_answers_as_json(monkeypatch.setattr)
    calls = _serializer_calls(monkeypatch)
    answers = _item_answers(moto)
    assert answers[0]["Item"]["photo"] == {"B": "aGVsbG8="}
    # BatchWriteItem's and TransactWriteItems' answers hold no item: moto's serializer writes them
    assert set(calls) - {"BatchWriteItem", "TransactWriteItems"} == set()


def test_item_actions_answer_as_stock_moto_does(
    moto: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock = _item_answers(moto)
    moto_main.install(monkeypatch.setattr)
    assert _item_answers(moto) == stock
    assert stock[0]["Item"]["photo"] == {"B": "aGVsbG8="}
    assert stock[1] == {}


# ------------------------------------------------------------------ DynamoDB: transactions


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


def _cancellation_seen_by_a_stream_reader(moto: Moto) -> list[dict[str, str]]:
    """A reader's iterator is taken, a transaction is cancelled (the table must be as it
    was), then an item is put: the sort keys of what the reader then gets."""
    before = moto.ddb("Scan", TableName=TABLE)
    iterator = _iterator(moto, "LATEST")
    _cancelled_transaction(moto)
    assert moto.ddb("Scan", TableName=TABLE) == before
    moto.ddb("PutItem", TableName=TABLE, Item={"PK": _s("CH#0"), "SK": _s("MSG#after")})
    records = moto.streams("GetRecords", ShardIterator=iterator)["Records"]
    return [r["dynamodb"]["Keys"]["SK"] for r in records]


@pytest.mark.parametrize(
    "patched",
    [
        PATCHED,
        stock_fails(
            "a cancelled transaction puts a copy of the table in its place, stream and all"
        ),
    ],
)
def test_a_cancelled_transaction_keeps_the_stream_readers(
    patched: bool, moto: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the stack's stream consumers went quiet after a webhook post or a fuzz run (both
    cancel transactions: a rate limit, a repeated clientMsgId): stock moto puts back a deep
    copy of the table, stream shard and all, so a reader already open gets the cancelled
    write as if it had happened, then reads the orphaned shard forever."""
    if patched:
        moto_main.transactions_save_their_items(monkeypatch.setattr)
    # the iterator taken before reads the live stream: the put, and nothing cancelled
    assert _cancellation_seen_by_a_stream_reader(moto) == [_s("MSG#after")]


def test_a_cancelled_transaction_keeps_the_stream_readers_with_every_change(
    moto: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_main.install(monkeypatch.setattr)  # stream_records_in_turn wraps the same method
    assert _cancellation_seen_by_a_stream_reader(moto) == [_s("MSG#after")]


@pytest.mark.parametrize(
    "patched",
    [PATCHED, stock_fails("a transaction deep-copies each table it names, items and all")],
)
def test_a_transaction_copies_no_table(
    patched: bool, moto: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    if patched:
        moto_main.transactions_save_their_items(monkeypatch.setattr)
    copied: list[str] = []
    inner = dynamodb_models.copy

    class Copies:  # the models' `copy` module, recording each table copied
        @staticmethod
        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            result = inner.deepcopy(value, memo)
            if isinstance(value, Table) and result is not value:
                copied.append(value.name)
            return result

    monkeypatch.setattr(dynamodb_models, "copy", Copies)
    item = {"PK": _s("CH#0"), "SK": _s("MSG#9999")}
    moto.ddb("TransactWriteItems", TransactItems=[{"Put": {"TableName": TABLE, "Item": item}}])
    assert moto.ddb("GetItem", TableName=TABLE, Key=item)["Item"] == item
    assert copied == []


# ------------------------------------------------------------------ DynamoDB: streams


def _sequence_numbers_of_two_puts_at_once(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Two threads put an item each into a table with a stream; each stops just before its
    stream record is built until the other gets there too, or for 0.5 s (the other waits
    for it to finish): the records' sequence numbers."""
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        name = f"streamed-{uuid.uuid4().hex[:8]}"
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        table = dynamodb_backends[ACCOUNT]["us-east-1"].tables[name]
        both = threading.Barrier(2, timeout=0.5)
        record = dynamodb_table.StreamRecord

        def meeting(*args: Any, **kwargs: Any) -> Any:
            with contextlib.suppress(threading.BrokenBarrierError):
                both.wait()
            return record(*args, **kwargs)

        monkeypatch.setattr(dynamodb_table, "StreamRecord", meeting)
        threads = [
            threading.Thread(target=table.put_item, args=({"PK": _s(f"k{n}")},)) for n in (1, 2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        shard = table.stream_shard
        assert shard is not None
        return [r.record["dynamodb"]["SequenceNumber"] for r in shard.items]


@pytest.mark.parametrize(
    "patched", [PATCHED, stock_fails("two records added at once get one sequence number")]
)
def test_stream_records_in_turn(patched: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if patched:
        moto_main.stream_records_in_turn(monkeypatch.setattr)
    numbers = _sequence_numbers_of_two_puts_at_once(monkeypatch)
    assert len(numbers) == 2
    assert len(set(numbers)) == 2


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


# ------------------------------------------------------------------ SQS


def _queue_of(sqs: Any, messages: int) -> tuple[str, Queue]:
    """A new standard queue (other suites may hold moto's backends open around this one)
    with `messages` messages: its URL and moto's model of it."""
    name = f"moto-main-{uuid.uuid4().hex}"
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    for n in range(messages):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
    return url, sqs_backends[ACCOUNT]["us-east-1"].get_queue(name)


@pytest.mark.parametrize(
    "patched",
    [PATCHED, stock_fails("SQS reads the clock by building and subtracting two datetimes")],
)
def test_queue_clock_from_time(patched: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if patched:
        moto_main.queue_clock_from_time(monkeypatch.setattr)
    readings = [0]
    utcnow = moto_utils.utcnow

    def counted() -> Any:
        readings[0] += 1
        return utcnow()

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url, _ = _queue_of(sqs, 10)
        monkeypatch.setattr(moto_utils, "utcnow", counted)
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 10
    assert readings[0] == 0


@pytest.mark.parametrize(
    "patched",
    [
        PATCHED,
        stock_fails("ReceiveMessage builds every queue attribute to read a message's retention"),
    ],
)
def test_retention_from_one_attribute(patched: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if patched:
        moto_main.retention_from_one_attribute(monkeypatch.setattr)
    built = [0]
    attributes = Queue.attributes

    def counted(self: Queue) -> Any:
        built[0] += 1
        return attributes.fget(self)  # type: ignore[attr-defined]  # a property, as moto defines it

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url, _ = _queue_of(sqs, 10)
        monkeypatch.setattr(Queue, "attributes", property(counted))
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 10
    assert built[0] == 0  # stock moto: three builds per message received


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


@pytest.mark.parametrize(
    "patched", [PATCHED, stock_fails("a queue's visible messages read the clock twice per message")]
)
def test_visible_messages_one_clock_reading(patched: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if patched:
        moto_main.visible_messages_one_clock_reading(monkeypatch.setattr)
    readings = [0]
    clock = sqs_models.unix_time_millis

    def counted(*args: Any) -> float:
        readings[0] += 1
        return clock(*args)

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        _, queue = _queue_of(sqs, 100)
        monkeypatch.setattr(sqs_models, "unix_time_millis", counted)
        assert len(queue.messages) == 100
    assert readings[0] <= 1


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


class _Interrupting:
    """A pending message whose group, when read, lets another request thread receive a
    message into the queue's pending set, as a thread switch in the middle of reading the
    groups would."""

    def __init__(self, group_id: str, pending: set[Any]) -> None:
        self._group_id, self._pending = group_id, pending

    @property
    def group_id(self) -> str:
        self._pending.add(_Received())
        return self._group_id


class _Received:
    """A message received meanwhile, from a standard queue's group (none)."""

    group_id = None


@pytest.mark.parametrize(
    "patched",
    [
        PATCHED,
        stock_fails("the pending groups read while another thread receives: 'Set changed size'"),
    ],
)
def test_pending_groups_from_a_snapshot(patched: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if patched:
        moto_main.pending_groups_from_a_snapshot(monkeypatch.setattr)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        name = f"moto-main-snapshot-{uuid.uuid4().hex[:20]}.fifo"
        sqs.create_queue(
            QueueName=name,
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        )
        queue = sqs_backends[ACCOUNT]["us-east-1"].get_queue(name)
        pending: set[Any] = set()
        pending |= {_Interrupting("a", pending), _Interrupting("b", pending)}
        queue._pending_messages = pending
        try:
            groups = queue.pending_message_groups
        except RuntimeError as error:  # a 500 to the poller
            groups = {str(error)}
    assert groups == {"a", "b"}


class _CountedSet(set[Any]):
    """A queue's pending set that counts the passes over it."""

    passes = 0

    def __iter__(self) -> Iterator[Any]:
        type(self).passes += 1
        return super().__iter__()


@pytest.mark.parametrize(
    "patched",
    [PATCHED, stock_fails("ReceiveMessage reads the pending groups once per timed-out message")],
)
def test_a_standard_queue_has_no_pending_groups(
    patched: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if patched:
        moto_main.pending_groups_from_a_snapshot(monkeypatch.setattr)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url, queue = _queue_of(sqs, 5)
        first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5, VisibilityTimeout=0)
        assert len(first["Messages"]) == 5
        queue._pending_messages = _CountedSet(queue._pending_messages)
        monkeypatch.setattr(_CountedSet, "passes", 0)
        time.sleep(0.01)  # every message pending and visible again: its consumer timed out
        again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5)
        assert len(again["Messages"]) == 5
        assert queue.pending_message_groups == set()
    assert _CountedSet.passes == 0  # stock moto: one, and one per timed-out message


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


@pytest.mark.parametrize(
    "patched",
    [PATCHED, stock_fails("SendMessage counts the queue's messages three times per send")],
)
def test_sends_without_counts(patched: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if patched:
        moto_main.sends_without_counts(monkeypatch.setattr)
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


# ------------------------------------------------------------------ moto in process


def _query_while_a_put_adds_a_partition() -> list[str]:
    """A Query, and a PutItem of a new partition in another thread that starts while the
    Query walks the table's partitions and is waited for (0.5 s at most: one request at a
    time, it waits for the Query to end): the errors the Query met."""
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    name = f"walked-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK")],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(3):
        ddb.put_item(TableName=name, Item={"PK": _s(f"CH#{n}"), "SK": _s("META")})
    put = threading.Thread(
        target=ddb.put_item,
        kwargs={"TableName": name, "Item": {"PK": _s("CH#new"), "SK": _s("META")}},
    )

    class Walked(dict[Any, Any]):  # the first partition, starting the put when walked
        def values(self) -> Any:
            if put.ident is None:
                put.start()
                put.join(timeout=0.5)
            return super().values()

    table = dynamodb_backends[ACCOUNT]["us-east-1"].tables[name]
    first = next(iter(table.items))
    table.items[first] = Walked(table.items[first])
    errors = []
    try:
        items = ddb.query(
            TableName=name,
            KeyConditionExpression="PK = :p",
            ExpressionAttributeValues={":p": _s("CH#1")},
        )["Items"]
        assert items == [{"PK": _s("CH#1"), "SK": _s("META")}]
    except RuntimeError as error:
        errors.append(str(error))
    put.join()
    assert ddb.get_item(TableName=name, Key={"PK": _s("CH#new"), "SK": _s("META")})["Item"]
    return errors


@pytest.mark.parametrize(
    "patched",
    [
        PATCHED,
        stock_fails("a Query walking the table while a put adds a partition: 'dictionary changed'"),
    ],
)
def test_one_request_at_a_time(patched: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.botocore_stubber import BotocoreStubber

    # The functional suite's session holds moto in process under the lock (conftest's
    # _mocked_account): the stock case runs on moto's own method.
    monkeypatch.setattr(
        BotocoreStubber, "process_request", inspect.unwrap(BotocoreStubber.process_request)
    )
    with mock_aws(), moto_main.one_request_at_a_time() if patched else contextlib.nullcontext():
        assert _query_while_a_put_adds_a_partition() == []


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


# ------------------------------------------------------------------ the JSON-protocol front


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
