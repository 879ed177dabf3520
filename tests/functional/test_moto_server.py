"""The stack's moto server over real sockets (`local/moto_main.py` in its own process): the
actions answered on its event loop, those sent to request threads, and the HTTP details
that the front translates (100-continue, HEAD sizes, percent-encoded paths)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from local.aws import FAKE_CREDENTIALS, MotoServer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(free_port(), tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    yield server
    server.stop()


def client(moto: MotoServer, service: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=moto.url,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, read_timeout=30),
        **FAKE_CREDENTIALS,
    )


def test_a_long_poll_waits_on_a_thread_while_item_actions_are_answered(
    moto: MotoServer,
) -> None:
    sqs, ddb = client(moto, "sqs"), client(moto, "dynamodb")
    queue = sqs.create_queue(QueueName="long-poll")["QueueUrl"]
    ddb.create_table(
        TableName="items",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    polled: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        polled["answer"] = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2)
        polled["waited_s"] = time.monotonic() - started

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.3)  # the poll is waiting in moto
    started = time.monotonic()
    for n in range(20):
        ddb.put_item(TableName="items", Item={"PK": {"S": f"k{n}"}})
        assert ddb.get_item(TableName="items", Key={"PK": {"S": f"k{n}"}})["Item"]
    assert time.monotonic() - started < 1.5  # not queued behind the poll
    poller.join()
    assert polled["waited_s"] >= 1.5
    assert "Messages" not in polled["answer"]


def test_actions_on_threads_answer_as_those_on_the_loop(moto: MotoServer) -> None:
    """A Scan and an index Query run on request threads; a base table Query on the loop."""
    ddb = client(moto, "dynamodb")
    ddb.create_table(
        TableName="indexed",
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK", "G")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByG",
                "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(5):
        item = {"PK": {"S": "p"}, "SK": {"S": f"s{n}"}, "G": {"S": "g"}}
        ddb.put_item(TableName="indexed", Item=item)
    by_key = ddb.query(
        TableName="indexed",
        KeyConditionExpression="PK = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
    )
    by_index = ddb.query(
        TableName="indexed",
        IndexName="ByG",
        KeyConditionExpression="G = :g",
        ExpressionAttributeValues={":g": {"S": "g"}},
    )
    scanned = ddb.scan(TableName="indexed")
    assert by_key["Count"] == by_index["Count"] == scanned["Count"] == 5
    assert sorted(i["SK"]["S"] for i in by_index["Items"]) == [f"s{n}" for n in range(5)]


def test_a_large_upload_a_head_and_an_encoded_key(moto: MotoServer) -> None:
    s3 = client(moto, "s3")
    s3.create_bucket(Bucket="files")
    body = b"x" * (2 * 1024 * 1024 + 7)  # botocore asks for 100-continue above 1 MB
    key = "team files/naïve résumé+1.txt"
    started = time.monotonic()
    s3.put_object(Bucket="files", Key=key, Body=body)
    assert time.monotonic() - started < 0.9  # not the second botocore waits without it
    head = s3.head_object(Bucket="files", Key=key)
    assert head["ContentLength"] == len(body)
    assert s3.get_object(Bucket="files", Key=key)["Body"].read() == body
    listed = s3.list_objects_v2(Bucket="files")["Contents"]
    assert [o["Key"] for o in listed] == [key]
