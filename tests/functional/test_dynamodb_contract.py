"""The contract of the DynamoDB client under pynamodb's connection, run against each client
the store can be bound to (`base.CLIENTS`: "lean", the deployed one, and "botocore"): every
item operation pynamodb makes for the store, the answers it reads, the errors with the codes
botocore's ClientError carries, failed conditions and cancelled transactions, and retries
after throttling. The same tests, the same assertions, for both.

moto answers, in this process: moto's `ThreadedMotoServer` on 127.0.0.1, since `mock_aws`
intercepts botocore's requests only and the lean client's would leave the process.
Throttling comes from a front before moto that answers the next few requests as DynamoDB
answers over a partition's throughput, and passes the others through. The byte-level match
of the two clients (request bytes, parsed answers, error members, backoff) is
test_dynamodb_http.py's, on a scripted server."""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import types
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import botocore.endpoint
import botocore.exceptions
import pytest
from moto.server import ThreadedMotoServer
from pynamodb.exceptions import DeleteError, GetError, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactGet

from local.stack import PROJECT_ROOT
from local.template import Template
from parley.adapters.dynamodb import base
from parley.adapters.dynamodb import transport as lean_transport
from parley.adapters.dynamodb.items import ChannelItem, ChannelMemberItem, MessageItem
from tests.functional.conftest import TABLE

REGION = "us-east-1"
JOINED = "2026-12-03T00:00:00Z"
_tables = itertools.count()


# ------------------------------------------------------------------------ moto and a front


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


class Throttling:
    """A front before `upstream` on 127.0.0.1: the next `throttles` requests are answered
    400 with `code`, every other one is passed to moto and its answer back; `seen` names the
    operation of every request that reached the front."""

    def __init__(self, upstream: str, code: str = "ProvisionedThroughputExceededException"):
        self.throttles = 0
        self.code = code
        self.seen: list[str] = []
        front = self
        target = urllib.parse.urlsplit(upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                front.seen.append(self.headers["X-Amz-Target"].rsplit(".", 1)[-1])
                if front.throttles > 0:
                    front.throttles -= 1
                    status, headers = 400, {"Content-Type": "application/x-amz-json-1.0"}
                    answer = json.dumps(
                        {
                            "__type": f"com.amazonaws.dynamodb.v20120810#{front.code}",
                            "message": "slow",
                        }
                    ).encode()
                else:
                    upstream = http.client.HTTPConnection(target.hostname or "", target.port)
                    upstream.request("POST", self.path, body, dict(self.headers.items()))
                    response = upstream.getresponse()
                    answer = response.read()
                    upstream.close()
                    status = response.status
                    skipped = {
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "server",
                        "date",
                    }
                    headers = {k: v for k, v in response.getheaders() if k.lower() not in skipped}
                self.send_response_only(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------------ the store, bound


class Store:
    """The store bound to a fresh table through one client: its name, the table, the
    operations the client was asked for, and the front its requests go through."""

    def __init__(self, client: str, table: str, front: Throttling) -> None:
        self.client = client
        self.table = table
        self.front = front
        self.operations: Counter[str] = Counter()


@pytest.fixture(scope="module")
def create_table(moto: str) -> Callable[[str], None]:
    """Makes a table with the template's keys and index on moto (one admin client)."""
    props = Template.load(PROJECT_ROOT / "template.yaml").resources["AppTable"].properties
    admin = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    ).client("dynamodb", endpoint_url=moto)

    def create(name: str) -> None:
        admin.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
            GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        )

    return create


@pytest.fixture
def store(
    moto: str,
    create_table: Callable[[str], None],
    dynamodb_client: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Store]:
    """The store bound through `dynamodb_client` (each of the two in turn) to a table of its
    own on moto, behind a front that throttles when told; retry pauses are not slept. Bound
    back to botocore and the functional tests' table after the test."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(lean_transport, "_sleep", lambda _: None)
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=lambda _: None))
    table = f"contract-{dynamodb_client}-{next(_tables)}"
    create_table(table)
    front = Throttling(moto)
    bound = Store(dynamodb_client, table, front)
    try:
        base.bind(table, REGION, host=front.url, client=dynamodb_client)
        client: lean_transport.DynamoDBClient = base.client()
        assert isinstance(client, lean_transport.DynamoDBHttp) == (dynamodb_client == "lean")
        calls = client._make_api_call

        def counted(operation: str, params: dict[str, Any]) -> Any:
            bound.operations[operation] += 1
            return calls(operation, params)

        monkeypatch.setattr(client, "_make_api_call", counted)
        yield bound
    finally:
        front.close()
        base.bind(TABLE, "us-east-1", client="botocore")


def channel(cid: str = "C1", members: int = 0) -> ChannelItem:
    return ChannelItem(
        f"CH#{cid}",
        "META",
        channelId=cid,
        workspaceId="W1",
        name="general",
        type="public",
        topic="",
        createdBy="U0",
        createdAt=JOINED,
        memberCount=members,
    )


def member(user: str, cid: str = "C1") -> ChannelMemberItem:
    return ChannelMemberItem(
        f"CH#{cid}",
        f"MEMBER#{user}",
        GSI1PK=f"USER#{user}",
        GSI1SK=f"CH#W1#{cid}",
        channelId=cid,
        workspaceId="W1",
        userId=user,
        joinedAt=JOINED,
    )


# ------------------------------------------------------------------------ the contract

# Each operation the lean client serves, and the test here that makes it.
COVERED = {
    "GetItem": "test_an_item_is_written_read_updated_and_deleted",
    "PutItem": "test_an_item_is_written_read_updated_and_deleted",
    "UpdateItem": "test_an_item_is_written_read_updated_and_deleted",
    "DeleteItem": "test_an_item_is_written_read_updated_and_deleted",
    "Query": "test_a_partition_is_read_in_pages_and_an_index_by_its_keys",
    "Scan": "test_a_scan_filters_and_a_count_counts",
    "BatchWriteItem": "test_batches_are_split_as_dynamodb_limits_them",
    "BatchGetItem": "test_batches_are_split_as_dynamodb_limits_them",
    "TransactWriteItems": "test_a_transaction_applies_all_or_is_cancelled_with_its_reasons",
    "TransactGetItems": "test_a_transactional_read_returns_each_item",
}


def test_every_operation_the_lean_client_serves_has_its_contract() -> None:
    assert set(COVERED) == lean_transport.SERVED
    assert all(callable(globals().get(name)) for name in COVERED.values())
    assert set(base.CLIENTS) == {"lean", "botocore"}  # what conftest's dynamodb_client runs


def test_an_item_is_written_read_updated_and_deleted(store: Store) -> None:
    item = channel()
    item.save()
    assert ChannelItem.get("CH#C1", "META", consistent_read=True).name == "general"
    assert base.get_or_none(ChannelItem, "CH#C2", "META") is None

    returned = item.update(
        actions=[ChannelItem.memberCount.add(3), ChannelItem.topic.set("t\u00e9a \U0001f375")]
    )
    assert returned["Attributes"]["memberCount"] == {"N": "3"}
    stored = ChannelItem.get("CH#C1", "META", consistent_read=True)
    assert (stored.memberCount, stored.topic) == (3, "t\u00e9a \U0001f375")

    item.delete()
    assert base.get_or_none(ChannelItem, "CH#C1", "META", consistent=True) is None
    assert {"PutItem", "GetItem", "UpdateItem", "DeleteItem"} <= set(store.operations)


def test_a_failed_condition_carries_its_code_and_message(store: Store) -> None:
    item = channel()
    item.save()
    with pytest.raises(PutError) as put:
        item.save(condition=ChannelItem.PK.does_not_exist())
    assert base.condition_failed(put.value)
    assert put.value.cause_response_code == "ConditionalCheckFailedException"
    assert put.value.cause_response_message == "The conditional request failed"
    assert not base.conditional(lambda: item.save(condition=ChannelItem.PK.does_not_exist()))
    assert base.conditional(lambda: item.save(condition=ChannelItem.PK.exists()))

    with pytest.raises(UpdateError) as update:
        item.update(actions=[ChannelItem.memberCount.add(1)], condition=ChannelItem.memberCount > 5)
    assert update.value.cause_response_code == "ConditionalCheckFailedException"
    item.delete()
    with pytest.raises(DeleteError) as delete:
        item.delete(condition=ChannelItem.PK.exists())
    assert delete.value.cause_response_code == "ConditionalCheckFailedException"


def test_a_partition_is_read_in_pages_and_an_index_by_its_keys(store: Store) -> None:
    with ChannelMemberItem.batch_write() as batch:
        for n in range(25):
            batch.save(member(f"U{n:03d}"))
    pages, cursor = [], None
    while True:
        page, cursor = base.query_page(
            ChannelMemberItem, "CH#C1", ChannelMemberItem.SK.startswith("MEMBER#"), 10, cursor
        )
        pages.append([m.userId for m in page])
        if cursor is None:
            break
    assert [len(page) for page in pages] == [10, 10, 5]
    assert [user for page in pages for user in page] == [f"U{n:03d}" for n in range(25)]

    newest = ChannelMemberItem.query("CH#C1", scan_index_forward=False, limit=2)
    assert [m.userId for m in newest] == ["U024", "U023"]
    found = list(ChannelMemberItem.gsi1.query("USER#U007", ChannelMemberItem.GSI1SK == "CH#W1#C1"))
    assert [(m.PK, m.SK) for m in found] == [("CH#C1", "MEMBER#U007")]
    assert store.operations["Query"] >= 5


def test_batches_are_split_as_dynamodb_limits_them(store: Store) -> None:
    """More than 25 writes (BatchWriteItem's limit) and 100 keys (BatchGetItem's), and keys
    that name nothing."""
    with ChannelMemberItem.batch_write() as batch:
        for n in range(130):
            batch.save(member(f"U{n:03d}"))
    assert store.operations["BatchWriteItem"] == 6
    keys = [("CH#C1", f"MEMBER#U{n:03d}") for n in range(-5, 130)]
    fetched = base.batch_get(ChannelMemberItem, keys)
    assert sorted(m.userId for m in fetched) == [f"U{n:03d}" for n in range(130)]
    assert store.operations["BatchGetItem"] == 2

    with ChannelMemberItem.batch_write() as batch:
        for n in range(30):
            batch.delete(member(f"U{n:03d}"))
    assert ChannelMemberItem.count("CH#C1") == 100


def test_a_transaction_applies_all_or_is_cancelled_with_its_reasons(store: Store) -> None:
    item = channel(members=1)
    item.save()
    joined = member("U1")
    joined.save()

    def leave(user: str) -> None:
        with base.transaction() as tx:
            tx.delete(member(user), condition=ChannelMemberItem.PK.exists())
            tx.update(item, actions=[ChannelItem.memberCount.add(-1)])

    with pytest.raises(TransactWriteError) as cancelled:
        leave("NOBODY")
    assert cancelled.value.cause_response_code == "TransactionCanceledException"
    reasons = cancelled.value.cancellation_reasons
    assert [r.code if r else None for r in reasons] == ["ConditionalCheckFailed", None]
    assert base.cancelled_by_condition(cancelled.value, 0)
    assert not base.cancelled_by_condition(cancelled.value, 1)
    assert ChannelItem.get("CH#C1", "META", consistent_read=True).memberCount == 1  # nothing

    leave("U1")
    assert ChannelItem.get("CH#C1", "META", consistent_read=True).memberCount == 0
    assert base.get_or_none(ChannelMemberItem, "CH#C1", "MEMBER#U1", consistent=True) is None
    assert store.operations["TransactWriteItems"] == 2


def test_a_transactional_read_returns_each_item(store: Store) -> None:
    channel().save()
    member("U1").save()
    with TransactGet(connection=base.Item._get_connection().connection) as tx:
        got_channel = tx.get(ChannelItem, "CH#C1", "META")
        got_member = tx.get(ChannelMemberItem, "CH#C1", "MEMBER#U1")
    assert got_channel.get().name == "general"
    assert got_member.get().userId == "U1"
    assert store.operations["TransactGetItems"] == 1


def test_a_scan_filters_and_a_count_counts(store: Store) -> None:
    for cid in ("C1", "C2", "C3"):
        channel(cid).save()
        member("U1", cid).save()
    assert sorted(c.channelId for c in ChannelItem.scan(ChannelItem.SK == "META")) == [
        "C1",
        "C2",
        "C3",
    ]
    assert ChannelMemberItem.count("CH#C2") == 2  # the channel and its member
    assert store.operations["Scan"] == 1


def test_binary_and_unicode_values_come_back_as_they_were_written(store: Store) -> None:
    connection = base.Item._get_connection().connection
    values = {
        "blob": {"B": b"\x00\xff\xfe"},
        "blobs": {"BS": [b"a", b"\x00"]},
        "nested": {"M": {"list": {"L": [{"B": b"\x01"}, {"S": "B"}, {"NULL": True}]}}},
        "text": {"S": "h\u00e9llo \U0001f600 <@U1> \u2028"},
        "n": {"N": "12.5"},
    }
    connection.put_item(store.table, "BIN#1", "BIN", attributes=values)
    stored = connection.get_item(store.table, "BIN#1", "BIN", consistent_read=True)["Item"]
    assert {name: stored[name] for name in values} == values


def test_a_message_item_round_trips_through_the_models(store: Store) -> None:
    message = MessageItem(
        "CH#C1",
        "MSG#1796256000.000100",
        channelId="C1",
        workspaceId="W1",
        ts="1796256000.000100",
        userId="U1",
        text="hello",
        mentions={"U2", "U3"},
        createdAt=JOINED,
    )
    message.save(condition=MessageItem.SK.does_not_exist())
    read = MessageItem.get("CH#C1", "MSG#1796256000.000100", consistent_read=True)
    assert _sets_sorted(read.serialize()) == _sets_sorted(message.serialize())


def _sets_sorted(item: dict[str, Any]) -> dict[str, Any]:
    """An item's attributes with string sets in order: a set's order on the wire is free."""
    return {
        name: {"SS": sorted(value["SS"])} if "SS" in value else value
        for name, value in item.items()
    }


def test_errors_are_botocores_client_error_with_the_services_code(store: Store) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as missing:
        base.client()._make_api_call(
            "GetItem", {"TableName": "no-such-table", "Key": {"PK": {"S": "x"}, "SK": {"S": "y"}}}
        )
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert missing.value.operation_name == "GetItem"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    with pytest.raises(botocore.exceptions.ClientError) as invalid:
        base.client()._make_api_call(
            "GetItem", {"TableName": store.table, "Key": {"PK": {"S": "only-the-hash-key"}}}
        )
    assert invalid.value.response["Error"]["Code"] == "ValidationException"
    assert invalid.value.response["Error"]["Message"]


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_throttled_requests_are_retried_and_nothing_is_lost(store: Store, code: str) -> None:
    store.front.code = code
    store.front.throttles = 3
    channel().save()
    store.front.throttles = 2
    assert ChannelItem.get("CH#C1", "META", consistent_read=True).name == "general"
    assert store.front.seen == ["PutItem"] * 4 + ["GetItem"] * 3
    assert store.operations == Counter({"PutItem": 1, "GetItem": 1})  # one call each


def test_throttling_past_the_attempts_raises_pynamodbs_error_with_the_code(store: Store) -> None:
    store.front.throttles = base.DYNAMODB_MAX_ATTEMPTS
    with pytest.raises(GetError) as raised:
        ChannelItem.get("CH#C1", "META")
    assert raised.value.cause_response_code == "ProvisionedThroughputExceededException"
    assert store.front.seen == ["GetItem"] * base.DYNAMODB_MAX_ATTEMPTS
    store.front.seen.clear()
    assert base.get_or_none(ChannelItem, "CH#C1", "META") is None  # the next call goes through
    assert store.front.seen == ["GetItem"]
