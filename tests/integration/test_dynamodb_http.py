"""The lean DynamoDB client under pynamodb against the stack's moto server (no stack): the same
sequence of the store's operations through each client, on a table of its own, gives the same
items, pages, errors and cancellation reasons; and TLS with certificate verification,
AWS_CA_BUNDLE honoured as botocore honours it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.transactions import TransactGet

from local.aws import MotoServer
from local.stack import PROJECT_ROOT
from local.template import Template
from parley.adapters.dynamodb import base, channels
from parley.adapters.dynamodb.items import ChannelItem, ChannelMemberItem
from parley.adapters.dynamodb.transport import DynamoDBHttp
from parley.domain.records import ChannelRecord
from tests.functional.test_connections_api_http import (
    Endpoint,
    certificate,  # noqa: F401  # a fixture, used by name
)

pytestmark = pytest.mark.integration

REGION = "us-east-1"
MEMBERS = 150  # more than one BatchGetItem (100 keys) and one BatchWriteItem (25 items)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = MotoServer(port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys in the environment, where botocore's chain looks first; no endpoint but the
    table's host."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def create_table(moto: MotoServer, name: str) -> None:
    props = Template.load(PROJECT_ROOT / "template.yaml").resources["AppTable"].properties
    boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    ).client("dynamodb", endpoint_url=moto.url).create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
    )


def moto_request_id(error: PutError) -> str:
    """The request id pynamodb read from the answer's `x-amzn-RequestId` header."""
    request_id = str(error).split("on request (", 1)[1].split(")", 1)[0]
    assert len(request_id) > 10
    return request_id


def without_names(answer: dict[str, Any]) -> dict[str, Any]:
    """A raw answer less what names the table or the request (its id, the date): the
    metadata's keys and the status stay."""
    metadata = answer["ResponseMetadata"]
    return {
        **{key: value for key, value in answer.items() if key != "ResponseMetadata"},
        "ConsumedCapacity": {**answer["ConsumedCapacity"], "TableName": None},
        "ResponseMetadata": (
            sorted(metadata),
            metadata["HTTPStatusCode"],
            metadata["RetryAttempts"],
            sorted(metadata["HTTPHeaders"]),
        ),
    }


def sequence(moto: MotoServer, client: str) -> list[Any]:
    """The store's operations on a fresh table through `client`, and what each returned or
    raised (nothing that names the table, so that both runs can be compared)."""
    table = f"lean-test-{client}"
    create_table(moto, table)
    base.bind(table, REGION, host=moto.url, client=client)
    assert isinstance(base.client(), DynamoDBHttp) == (client == "lean")
    seen: list[Any] = []

    channel = channels.channel_item(
        ChannelRecord(
            channelId="C1",
            workspaceId="W1",
            name="general",
            type="public",
            createdBy="U0",
            createdAt="2026-12-03T00:00:00Z",
            memberCount=1,
        )
    )
    channel.save()
    seen.append(("put", channel.serialize()))

    with pytest.raises(PutError) as put_error:
        channel.save(condition=ChannelItem.PK.does_not_exist())
    error = put_error.value
    seen.append(("conditional put", error.cause_response_code, error.cause_response_message))
    assert f"on request ({moto_request_id(error)}) on table ({table})" in str(error)
    seen.append(("conditional", base.conditional(lambda: channel.save(ChannelItem.PK.exists()))))

    returned = channel.update(
        actions=[ChannelItem.memberCount.add(MEMBERS), ChannelItem.topic.set("t\u00e9a \U0001f375")]
    )
    seen.append(("update", without_names(returned), channel.serialize()))

    seen.append(("get", ChannelItem.get("CH#C1", "META", consistent_read=True).serialize()))
    seen.append(("get missing", base.get_or_none(ChannelItem, "CH#C2", "META")))

    with ChannelMemberItem.batch_write() as batch:
        for n in range(MEMBERS):
            member = channels.new_member("C1", "W1", f"U{n:03d}", "2026-12-03T00:00:00Z")
            member.lastReadTs = f"1796256000.{n:06d}"  # not the time of the run
            batch.save(member)

    cursor = None
    while True:
        page, cursor = base.query_page(
            ChannelMemberItem, "CH#C1", ChannelMemberItem.SK.startswith("MEMBER#"), 40, cursor
        )
        seen.append(("page", [item.serialize() for item in page], cursor))
        if cursor is None:
            break

    found, members = channels.channel_with_members("C1")
    assert found is not None
    seen.append(("audience", asdict(found), members))

    keys = [channels.member_key("C1", f"U{n:03d}") for n in range(-5, MEMBERS)]
    fetched = base.batch_get(ChannelMemberItem, keys)
    seen.append(("batch get", sorted(item.userId for item in fetched)))

    def leave(user: str) -> None:
        member = ChannelMemberItem(*channels.member_key("C1", user))
        with base.transaction() as tx:
            tx.delete(member, condition=ChannelMemberItem.PK.exists())
            tx.update(channel, actions=[ChannelItem.memberCount.add(-1)])

    with pytest.raises(TransactWriteError) as cancelled:
        leave("NOBODY")
    reasons = cancelled.value.cancellation_reasons
    seen.append(
        (
            "cancelled",
            cancelled.value.cause_response_code,
            [reason.code if reason else None for reason in reasons],
            base.cancelled_by_condition(cancelled.value, 0),
            base.cancelled_by_condition(cancelled.value, 1),
        )
    )
    leave("U000")

    with TransactGet(connection=base.Item._get_connection().connection) as tx_get:
        got_channel = tx_get.get(ChannelItem, "CH#C1", "META")
        got_member = tx_get.get(ChannelMemberItem, "CH#C1", "MEMBER#U001")
    seen.append(("transact get", got_channel.get().serialize(), got_member.get().serialize()))

    seen.append(("scan", sorted(item.SK for item in ChannelItem.scan(ChannelItem.SK == "META"))))
    seen.append(("count", ChannelMemberItem.count("CH#C1")))

    connection = base.Item._get_connection().connection
    binary = {
        "blob": {"B": b"\x00\xff\xfe"},
        "blobs": {"BS": [b"a", b"\x00"]},
        "nested": {"M": {"list": {"L": [{"B": b"\x01"}, {"S": "B"}]}}},
    }
    connection.put_item(table, "BIN#1", "BIN", attributes=binary)
    answer = connection.get_item(table, "BIN#1", "BIN", consistent_read=True)
    stored = answer["Item"]
    seen.append(("binary", without_names(answer)))
    assert stored["blob"] == {"B": b"\x00\xff\xfe"}

    channel.delete()
    seen.append(("deleted", base.get_or_none(ChannelItem, "CH#C1", "META", consistent=True)))
    with pytest.raises(DeleteError) as delete_error:
        channel.delete(condition=ChannelItem.PK.exists())
    seen.append(("conditional delete", delete_error.value.cause_response_code))
    return seen


def test_the_store_gets_the_same_results_through_both_clients(
    moto: MotoServer, credentials: None
) -> None:
    try:
        through_botocore = sequence(moto, "botocore")
        through_lean = sequence(moto, "lean")
    finally:
        base.Item._connection = None  # bound to a server that stops after this module
    assert len(through_lean) == len(through_botocore)
    for ours, theirs in zip(through_lean, through_botocore, strict=True):
        assert ours == theirs
    pages = [step for step in through_lean if step[0] == "page"]
    assert len(pages) == 4  # 150 members, 40 a page
    assert len(next(step for step in through_lean if step[0] == "batch get")[1]) == MEMBERS


def test_describe_table_goes_through_botocore(moto: MotoServer, credentials: None) -> None:
    create_table(moto, "lean-test-describe")
    try:
        base.bind("lean-test-describe", REGION, host=moto.url, client="lean")
        connection = base.Item._get_connection().connection
        assert connection.describe_table("lean-test-describe")["TableName"] == "lean-test-describe"
        assert connection._client is not None  # botocore's, made for this call
    finally:
        base.Item._connection = None


# ------------------------------------------------------------------------------------ TLS


def tls_client(endpoint: Endpoint) -> DynamoDBHttp:
    def refuse() -> Any:
        raise AssertionError("sent to botocore")

    return DynamoDBHttp(
        REGION,
        endpoint.url.removesuffix("/dev"),
        max_attempts=2,
        connect_timeout_s=2,
        read_timeout_s=2,
        botocore_client=refuse,
    )


@pytest.fixture
def tls_endpoint(
    certificate: tuple[Path, Path],  # noqa: F811  # the imported fixture
    credentials: None,
) -> Iterator[Endpoint]:
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with Endpoint(tls=context).running() as running:
        yield running


def test_tls_refuses_a_certificate_nobody_trusts(
    tls_endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    monkeypatch.setattr("parley.adapters.dynamodb.transport._sleep", lambda _: None)
    with pytest.raises(botocore.exceptions.SSLError):
        tls_client(tls_endpoint)._make_api_call("GetItem", {"TableName": "t"})
    assert tls_endpoint.seen == []


def test_tls_trusts_the_aws_ca_bundle(
    tls_endpoint: Endpoint,
    certificate: tuple[Path, Path],  # noqa: F811  # the imported fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(certificate[0]))
    client = tls_client(tls_endpoint)
    for _ in range(3):
        assert (
            client._make_api_call("GetItem", {"TableName": "t"})["ResponseMetadata"][
                "HTTPStatusCode"
            ]
            == 200
        )
    assert len({seen.client_port for seen in tls_endpoint.seen}) == 1
    assert tls_endpoint.seen[0].headers["host"] == tls_endpoint.url.split("/")[2]
