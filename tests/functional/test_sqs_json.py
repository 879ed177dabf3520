"""The lean SQS client (parley.adapters.sqs_json) against boto3's own request for the same
SendMessageBatch, without sockets: same URL, body, headers and SigV4 signature; and its
batching and retries over a scripted transport."""

from __future__ import annotations

import datetime
import json
from typing import Any

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from parley.adapters.keepalive import Answer
from parley.adapters.sqs_json import SqsJsonQueue

NOW = datetime.datetime(2026, 12, 3, 11, 39, 12, tzinfo=datetime.UTC)
KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEJr//////////wEaDH0+session/token=="
QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/parley-dev-FanoutQueue-1A2B"
SENT = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Target", "Content-Type")


class _Body:
    def stream(self, **kwargs: Any) -> Any:
        return iter([b'{"Successful":[],"Failed":[]}'])


class Transport:
    """Takes the client's posts; answers from `answers` (status, document), then 200."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]] | None = None) -> None:
        self.posts: list[tuple[str, bytes, dict[str, str]]] = []
        self.answers = answers or []

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        self.posts.append((path, body, headers))
        status, document = self.answers.pop(0) if self.answers else (200, {"Successful": []})
        return Answer(status, {}, json.dumps(document).encode())


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))


def lean(transport: Transport) -> SqsJsonQueue:
    queue = SqsJsonQueue(QUEUE, "eu-west-1", clock=NOW.timestamp)
    queue._connection()  # parses the URL: the host is signed
    queue._transport = transport  # type: ignore[assignment]  # the scripted stand-in
    return queue


def test_the_request_is_boto3s(credentials: None) -> None:
    bodies = [("a", '{"v":1,"text":"h\u00e9"}'), ("b", "second")]
    client = boto3.session.Session(
        aws_access_key_id=KEY, aws_secret_access_key=SECRET, aws_session_token=TOKEN
    ).client("sqs", region_name="eu-west-1")
    taken: list[AWSPreparedRequest] = []

    def take(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        taken.append(request)
        return AWSResponse(request.url, 200, {}, _Body())

    client.meta.events.register_first("before-send.*.SendMessageBatch", take)
    client.send_message_batch(
        QueueUrl=QUEUE,
        Entries=[{"Id": str(i), "MessageBody": body} for i, (_, body) in enumerate(bodies)],
    )
    transport = Transport()
    assert lean(transport).send(bodies) == set()
    theirs = taken[0]
    path, body, headers = transport.posts[0]
    assert theirs.url == f"https://sqs.eu-west-1.amazonaws.com{path}"
    assert body == theirs.body
    expected = {name: theirs.headers[name] for name in SENT}
    expected = {k: v.decode() if isinstance(v, bytes) else v for k, v in expected.items()}
    assert {name: headers[name] for name in SENT} == expected


def test_batches_of_ten_within_256_kib_and_refusals(credentials: None) -> None:
    transport = Transport(
        [
            (200, {"Successful": [], "Failed": [{"Id": "3", "SenderFault": True}]}),
            (200, {"Failed": [{"Id": "0", "SenderFault": False}]}),  # the second batch's first
            (503, {}),  # its retry: a whole batch, again
        ]
    )
    bodies = [(f"k{i}", "x" * 30_000) for i in range(12)]
    refused = lean(transport).send(bodies)
    sizes = [len(json.loads(body)["Entries"]) for _, body, _ in transport.posts]
    assert sizes == [8, 4, 1, 1]  # 8 x 30 KB fit in 256 KiB; then the retries of k8
    assert refused == {"k3"}


def test_a_queue_url_that_is_not_one_fails_on_first_use(credentials: None) -> None:
    queue = SqsJsonQueue("0decfeb23e", "eu-west-1")  # built at cold start: no error yet
    with pytest.raises(ValueError, match="not an http"):
        queue.send([("a", "b")])


def test_a_sender_fault_answer_raises(credentials: None) -> None:
    from parley.adapters.sqs_json import SqsError

    transport = Transport([(400, {"__type": "com.amazonaws.sqs#QueueDoesNotExist"})])
    with pytest.raises(SqsError, match="QueueDoesNotExist"):
        lean(transport).send([("a", "b")])
