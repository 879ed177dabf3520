"""The lean DynamoDB client against botocore's: the signature (no sockets), then the request,
the parsed answers, the errors and the retries, each sent by both clients to one stand-in
server on 127.0.0.1 that records what it receives and answers from a script; the endpoint
rules; what goes to botocore; the store's binding.

The stand-in only runs in a thread of this process (moto, in process, intercepts botocore's
requests to AWS's names only, so both clients reach it)."""

from __future__ import annotations

import base64
import copy
import datetime
import json
import threading
import types
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import botocore.auth
import botocore.endpoint
import botocore.exceptions
import botocore.retries.quota
import botocore.retries.standard
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials, ReadOnlyCredentials
from pynamodb.exceptions import PutError, TransactWriteError

from parley.adapters.dynamodb import transport as dynamodb_http
from parley.adapters.dynamodb.transport import (
    DynamoDBHttp,
    LeanConnection,
    RetryQuota,
    endpoint_url,
)
from parley.adapters.sigv4 import signed_headers
from tests.scripted_http import CLOSE, SILENT, ScriptedServer

NOW = datetime.datetime(2026, 12, 3, 11, 39, 12, tzinfo=datetime.UTC)
KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEJr//////////wEaDH0+session/token=="
REGION = "eu-west-1"
BOOKKEEPING = {"user-agent", "amz-sdk-invocation-id", "amz-sdk-request"}


# ------------------------------------------------------------------------ the stand-in


class Server(ScriptedServer):
    """The stand-in (tests/scripted_http.py) as DynamoDB: `{}` once the script runs out."""

    def __init__(self, idle_timeout_s: float | None = None) -> None:
        super().__init__(idle_timeout_s, default_body=b"{}")
        self.url = self.origin

    def answer(self, status: int, body: Any = None, **headers: str) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
        self.script.append((status, {k.replace("_", "-"): v for k, v in headers.items()}, raw))

    def error(self, status: int, code: str, message: str = "no", **members: Any) -> None:
        document = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
        self.answer(status, {**document, **members}, x_amzn_RequestId="REQ-1")


@pytest.fixture
def server() -> Iterator[Server]:
    with Server().running() as running:
        yield running


def session(token: str | None = None) -> botocore.session.Session:
    fresh = botocore.session.Session()
    fresh.set_credentials(KEY, SECRET, token)
    return fresh


def refuse() -> Any:
    raise AssertionError("sent to botocore")


def lean(url: str, attempts: int = 1, token: str | None = None, **options: Any) -> DynamoDBHttp:
    """The lean client to `url`, signing at NOW."""
    return DynamoDBHttp(
        REGION,
        url,
        max_attempts=attempts,
        connect_timeout_s=1,
        read_timeout_s=options.pop("read_timeout_s", 5),
        botocore_client=options.pop("botocore_client", refuse),
        session=lambda: session(token),
        clock=NOW.timestamp,
        **options,
    )


def botocore_client(url: str, attempts: int = 1, token: str | None = None) -> Any:
    """botocore's client as pynamodb makes it (standard mode, no parameter validation)."""
    config = Config(
        parameter_validation=False,
        retries={"mode": "standard", "total_max_attempts": attempts},
    )
    return session(token).create_client("dynamodb", REGION, endpoint_url=url, config=config)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore signs at NOW, as the lean client does in these tests."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[float]]:
    """The retry pauses each client asks for, not slept (botocore's through time.sleep)."""
    asked: dict[str, list[float]] = {"lean": [], "botocore": []}
    monkeypatch.setattr(dynamodb_http, "_sleep", asked["lean"].append)
    # botocore.endpoint's `time` (it uses nothing else of it), not time.sleep everywhere
    monkeypatch.setattr(
        botocore.endpoint, "time", types.SimpleNamespace(sleep=asked["botocore"].append)
    )
    return asked


# ------------------------------------------------------------------------ the signature


@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "session"])
@pytest.mark.parametrize("host", ["dynamodb.eu-west-1.amazonaws.com", "127.0.0.1:8000"])
def test_the_signature_is_botocores_sigv4auth(
    token: str | None, host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    body = b'{"TableName": "t", "Key": {"PK": {"S": "CH#\\u00e9"}}}'
    target = {
        "X-Amz-Target": "DynamoDB_20120810.GetItem",
        "Content-Type": dynamodb_http.CONTENT_TYPE,
    }
    request = AWSRequest("POST", f"http://{host}/", headers=dict(target), data=body)
    botocore.auth.SigV4Auth(Credentials(KEY, SECRET, token), "dynamodb", REGION).add_auth(request)
    ours = signed_headers(
        "POST",
        host,
        "/",
        body,
        service="dynamodb",
        region=REGION,
        credential=ReadOnlyCredentials(KEY, SECRET, token, None),
        now=NOW.timestamp(),
        headers=target,
    )
    names = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")
    assert {name: ours.get(name) for name in names} == {
        name: request.headers.get(name) for name in names
    }
    assert "x-amz-target" in ours["Authorization"]  # the target is signed, as botocore signs it


# ------------------------------------------------------------------------ the request

ITEM = {
    "PK": {"S": "CH#C1"},
    "SK": {"S": "MSG#1764761952.000100"},
    "text": {"S": "h\u00e9llo \U0001f600 <@U1>"},
    "n": {"N": "12.5"},
    "blob": {"B": b"\x00\xffbinary"},
    "blobs": {"BS": [b"a", b"\x00"]},
    "nested": {"M": {"list": {"L": [{"B": b"\x01"}, {"NULL": True}, {"BOOL": False}]}}},
    "tags": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2"]},
}
KEY_OF_ITEM = {"PK": ITEM["PK"], "SK": ITEM["SK"]}
CONDITION = {
    "ConditionExpression": "attribute_not_exists(PK) OR #v = :v",
    "ExpressionAttributeNames": {"#v": "version"},
    "ExpressionAttributeValues": {":v": {"N": "3"}},
}
REQUESTS: dict[str, dict[str, Any]] = {
    "GetItem": {
        "TableName": "parley",
        "Key": KEY_OF_ITEM,
        "ConsistentRead": True,
        "ProjectionExpression": "#t",
        "ExpressionAttributeNames": {"#t": "text"},
        "ReturnConsumedCapacity": "TOTAL",
    },
    "PutItem": {"TableName": "parley", "Item": ITEM, **CONDITION, "ReturnValues": "ALL_OLD"},
    "UpdateItem": {
        "TableName": "parley",
        "Key": KEY_OF_ITEM,
        "UpdateExpression": "SET #b = :b ADD #c :one",
        "ExpressionAttributeNames": {"#b": "blob", "#c": "count"},
        "ExpressionAttributeValues": {":b": {"B": b"\x02"}, ":one": {"N": "1"}},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    },
    "DeleteItem": {"TableName": "parley", "Key": KEY_OF_ITEM, **CONDITION},
    "Query": {
        "TableName": "parley",
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :sk)",
        "ExpressionAttributeValues": {":pk": {"S": "U#1"}, ":sk": {"S": "CH#"}},
        "ExclusiveStartKey": {"GSI1PK": {"S": "U#1"}, "GSI1SK": {"B": b"\x03"}},
        "ScanIndexForward": False,
        "Limit": 25,
        "Select": "ALL_ATTRIBUTES",
    },
    "Scan": {
        "TableName": "parley",
        "FilterExpression": "begins_with(SK, :m)",
        "ExpressionAttributeValues": {":m": {"S": "MSG#"}},
        "Segment": 1,
        "TotalSegments": 4,
        "ConsistentRead": True,
    },
    "BatchGetItem": {
        "RequestItems": {"parley": {"Keys": [KEY_OF_ITEM] * 3, "ConsistentRead": True}},
        "ReturnConsumedCapacity": "INDEXES",
    },
    "BatchWriteItem": {
        "RequestItems": {
            "parley": [{"PutRequest": {"Item": ITEM}}, {"DeleteRequest": {"Key": KEY_OF_ITEM}}]
        },
        "ReturnItemCollectionMetrics": "SIZE",
    },
    "TransactWriteItems": {
        "TransactItems": [
            {"ConditionCheck": {"TableName": "parley", "Key": KEY_OF_ITEM, **CONDITION}},
            {"Delete": {"TableName": "parley", "Key": KEY_OF_ITEM}},
            {"Put": {"TableName": "parley", "Item": ITEM}},
            {
                "Update": {
                    "TableName": "parley",
                    "Key": KEY_OF_ITEM,
                    "UpdateExpression": "ADD memberCount :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ],
        "ClientRequestToken": "a1b2c3d4-0000-4000-8000-000000000001",
    },
    "TransactGetItems": {
        "TransactItems": [{"Get": {"TableName": "parley", "Key": KEY_OF_ITEM}}] * 2,
    },
}


def test_every_served_operation_has_a_request_here() -> None:
    assert set(REQUESTS) == dynamodb_http.SERVED


@pytest.mark.parametrize("operation", sorted(REQUESTS))
@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "session"])
def test_the_request_is_the_one_botocore_sends(
    server: Server, frozen: None, operation: str, token: str | None
) -> None:
    """Body bytes and every header, signature included, at the same moment with the same
    keys; botocore's own bookkeeping (User-Agent, amz-sdk-*) is all it adds."""
    botocore_client(server.url, token=token)._make_api_call(
        operation, copy.deepcopy(REQUESTS[operation])
    )
    lean(server.url, token=token)._make_api_call(operation, copy.deepcopy(REQUESTS[operation]))
    theirs, ours = server.seen
    assert ours.body == theirs.body
    assert ours.headers == {k: v for k, v in theirs.headers.items() if k not in BOOKKEEPING}
    assert ours.headers["x-amz-target"] == f"DynamoDB_20120810.{operation}"
    assert ours.headers["content-type"] == "application/x-amz-json-1.0"
    assert theirs.headers.keys() - ours.headers.keys() == BOOKKEEPING


def test_a_transaction_without_a_token_gets_one_kept_across_retries(
    server: Server, delays: dict[str, list[float]]
) -> None:
    """botocore adds a ClientRequestToken, so that DynamoDB applies a retried transaction
    once; the caller's parameters are left as they were."""
    params = copy.deepcopy(REQUESTS["TransactWriteItems"])
    del params["ClientRequestToken"]
    server.error(500, "InternalServerError")
    lean(server.url, attempts=2)._make_api_call("TransactWriteItems", params)
    tokens = [json.loads(seen.body)["ClientRequestToken"] for seen in server.seen]
    assert len(tokens) == 2
    assert tokens[0] == tokens[1]
    assert len(tokens[0]) == 36
    assert "ClientRequestToken" not in params


def test_extra_headers_are_sent_unsigned_as_pynamodb_adds_them(server: Server) -> None:
    lean(server.url, extra_headers={"X-Trace": "t-1"})._make_api_call(
        "GetItem", REQUESTS["GetItem"]
    )
    (seen,) = server.seen
    assert seen.headers["x-trace"] == "t-1"
    assert "x-trace" not in seen.headers["authorization"]


# ------------------------------------------------------------------------ answers


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


WIRE_ITEM = {
    "PK": {"S": "CH#C1"},
    "blob": {"B": b64(b"\x00\xff")},
    "blobs": {"BS": [b64(b"a"), b64(b"\x01")]},
    "nested": {"M": {"B": {"L": [{"B": b64(b"\x02")}, {"S": "B"}]}, "BS": {"N": "1"}}},
}
SUCCESSES = {
    "GetItem": {"Item": WIRE_ITEM, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}},
    "PutItem": {"Attributes": WIRE_ITEM},
    "Query": {
        "Items": [WIRE_ITEM, {"PK": {"S": "x"}}],
        "Count": 2,
        "ScannedCount": 2,
        "LastEvaluatedKey": {"PK": {"S": "x"}, "SK": {"B": b64(b"\x09")}},
    },
    "BatchGetItem": {
        "Responses": {"t": [WIRE_ITEM]},
        "UnprocessedKeys": {"t": {"Keys": [{"PK": {"B": b64(b"k")}}], "ConsistentRead": True}},
    },
    "BatchWriteItem": {
        "UnprocessedItems": {
            "t": [
                {"PutRequest": {"Item": WIRE_ITEM}},
                {"DeleteRequest": {"Key": {"PK": {"S": "a"}}}},
            ]
        }
    },
    "TransactGetItems": {"Responses": [{"Item": WIRE_ITEM}, {}]},
    "Scan": {"Items": [], "Count": 0, "ScannedCount": 0},
}


@pytest.mark.parametrize("operation", sorted(SUCCESSES))
def test_an_answer_is_parsed_as_botocore_parses_it(server: Server, operation: str) -> None:
    """Binary values as bytes wherever they are, ResponseMetadata with the request id, the
    status, the headers in lower case, and the retries (none)."""
    body = json.dumps(SUCCESSES[operation]).encode()
    headers = {"x-amzn-RequestId": "REQ-7", "x-amz-crc32": str(zlib.crc32(body))}
    answers = []
    for client in (botocore_client(server.url), lean(server.url)):
        server.script.append((200, headers, body))
        answers.append(client._make_api_call(operation, copy.deepcopy(REQUESTS[operation])))
    theirs, ours = answers
    assert ours == theirs
    if operation == "GetItem":
        assert ours["Item"]["blob"] == {"B": b"\x00\xff"}
        assert ours["ResponseMetadata"]["RequestId"] == "REQ-7"
        assert ours["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == "REQ-7"


ERRORS = {
    "conditional-with-item": (
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
            "message": "The conditional request failed",
            "Item": WIRE_ITEM,
        },
    ),
    "transaction-cancelled": (
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": "Transaction cancelled, please refer cancellation reasons for specific "
            "reasons [None, ConditionalCheckFailed]",
            "CancellationReasons": [
                {"Code": "None"},
                {"Code": "ConditionalCheckFailed", "Message": "failed", "Item": WIRE_ITEM},
            ],
        },
    ),
    "unmodelled": (
        400,
        {"__type": "com.amazon.coral.validate#ValidationException", "message": "bad key"},
    ),
    "type-with-suffix": (
        400,
        {"__type": "ResourceNotFoundException:http://internal/", "Message": "no table"},
    ),
    "throttled": (
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
            "message": "slow down",
            "throttlingReasons": [{"reason": "TableWriteKeyRangeThroughputExceeded"}],
        },
    ),
    "html-5xx": (503, b"<html><body>Service Unavailable</body></html>"),
    "empty-5xx": (500, b""),
    "not-json": (400, b"not json at all"),
    "no-type": (413, {"message": "too large"}),
}


@pytest.mark.parametrize(("status", "body"), list(ERRORS.values()), ids=list(ERRORS))
def test_an_error_raises_the_client_error_botocore_raises(
    server: Server, status: int, body: Any
) -> None:
    """The same `response` (Error, the modelled members, ResponseMetadata) and message."""
    raised = []
    for client in (botocore_client(server.url), lean(server.url)):
        server.answer(status, body, x_amzn_RequestId="REQ-9")
        with pytest.raises(botocore.exceptions.ClientError) as error:
            client._make_api_call("PutItem", copy.deepcopy(REQUESTS["PutItem"]))
        raised.append(error.value)
    theirs, ours = raised
    assert ours.response == theirs.response
    assert str(ours) == str(theirs)
    assert ours.operation_name == "PutItem"


# ------------------------------------------------------------------------ retries


def both(
    server: Server,
    script: Callable[[], None],
    operation: str = "GetItem",
    attempts: int = 5,
    calls: int = 1,
) -> dict[str, tuple[int, Any]]:
    """Each client makes `calls` of `operation` against the script (set anew for each
    client): how many requests reached the server and what the last call returned or
    raised."""
    outcomes = {}
    for name, client in (
        ("botocore", botocore_client(server.url, attempts)),
        ("lean", lean(server.url, attempts)),
    ):
        server.seen.clear()
        server.script.clear()
        outcome: Any = None
        for _ in range(calls):
            script()
            try:
                answer = client._make_api_call(operation, copy.deepcopy(REQUESTS[operation]))
                outcome = ("ok", answer["ResponseMetadata"]["RetryAttempts"])
            except botocore.exceptions.ClientError as error:
                meta = error.response["ResponseMetadata"]
                outcome = (error.response["Error"]["Code"], meta.get("MaxAttemptsReached"))
        outcomes[name] = (len(server.seen), outcome)
    return outcomes


SCRIPTS: dict[str, Callable[[Server], None]] = {
    "throttled-3-times": lambda s: [
        s.error(400, "ProvisionedThroughputExceededException") for _ in range(3)
    ],
    "throttling-codes": lambda s: [
        s.error(400, code)
        for code in (
            "ThrottlingException",
            "RequestLimitExceeded",
            "TransactionInProgressException",
        )
    ],
    "5xx-then-ok": lambda s: [s.answer(status) for status in (500, 502, 503, 504)],
    "5xx-exhausted": lambda s: [s.error(500, "InternalServerError") for _ in range(5)],
    "429-unmodelled": lambda s: [s.error(429, "TooBusy"), s.error(429, "TooBusy")],
    "429-modelled-not-retryable": lambda s: s.error(429, "ResourceNotFoundException"),
    "transient-codes": lambda s: [s.error(400, "RequestTimeout"), s.error(408, "RequestTimeout")],
    "modelled-retryable-elsewhere": lambda s: s.error(400, "ReplicatedWriteConflictException"),
    "429-modelled-elsewhere": lambda s: s.error(429, "ConditionalCheckFailedException"),
    "not-retried": lambda s: s.error(400, "ConditionalCheckFailedException"),
    "validation": lambda s: s.error(400, "ValidationException"),
    "crc-mismatch": lambda s: s.answer(200, {"Item": {}}, X_Amz_Crc32="12345"),
    "crc-mismatch-exhausted": lambda s: [
        s.answer(200, {"Item": {"PK": {"S": str(n)}}}, X_Amz_Crc32="1") for n in range(5)
    ],
    "crc-matching": lambda s: s.answer(200, {}, X_Amz_Crc32=str(zlib.crc32(b"{}"))),
    "closed-without-answer": lambda s: s.script.append((CLOSE, {}, b"")),
}


@pytest.mark.parametrize("script", list(SCRIPTS.values()), ids=list(SCRIPTS))
def test_retries_are_botocores_standard_mode(
    server: Server, delays: dict[str, list[float]], script: Callable[[Server], None]
) -> None:
    """The same requests reach the server and the same outcome comes back (the answer and
    its retry count, or the error and whether the attempts ran out), with as many pauses."""
    outcomes = both(server, lambda: script(server))
    assert outcomes["lean"] == outcomes["botocore"]
    assert len(delays["lean"]) == len(delays["botocore"]) == outcomes["lean"][0] - 1


@pytest.mark.parametrize(
    ("code", "status", "retried"),
    [
        ("ReplicatedWriteConflictException", 400, True),
        ("ConditionalCheckFailedException", 429, False),
        ("TransactionConflictException", 400, False),
    ],
)
def test_a_write_retries_what_its_model_says(
    server: Server, delays: dict[str, list[float]], code: str, status: int, retried: bool
) -> None:
    """The errors a write's model lists decide: retryable ones are retried, and a 429 with
    a modelled code is not throttling (a read, whose model lacks them, differs above)."""
    outcomes = both(server, lambda: server.error(status, code), operation="PutItem")
    assert outcomes["lean"] == outcomes["botocore"]
    assert outcomes["lean"][0] == (2 if retried else 1)


def test_throttling_backs_off_from_one_second_and_the_rest_from_25_ms(
    server: Server, delays: dict[str, list[float]]
) -> None:
    """random() * min(base * 2^(attempt - 1), 20 s): base 1 s after a throttle, 25 ms
    after a 5xx (botocore's for DynamoDB)."""
    for _ in range(20):
        for _ in range(4):
            server.error(400, "ThrottlingException")
        lean(server.url, attempts=5)._make_api_call("GetItem", {})
        for _ in range(4):
            server.error(500, "InternalServerError")
        lean(server.url, attempts=5)._make_api_call("GetItem", {})
    pauses = delays["lean"]
    throttled = [pauses[i : i + 4] for i in range(0, len(pauses), 8)]
    transient = [pauses[i + 4 : i + 8] for i in range(0, len(pauses), 8)]
    for bound, runs in ((1.0, throttled), (0.025, transient)):
        for attempt in range(4):
            drawn = [run[attempt] for run in runs]
            assert all(0 <= d <= bound * 2**attempt for d in drawn)
            assert max(drawn) > bound * 2**attempt / 2  # the whole range, not its bottom
    assert len(set(pauses)) == len(pauses)


def test_retry_after_raises_the_pause_by_at_most_five_seconds(
    server: Server, delays: dict[str, list[float]]
) -> None:
    server.error(400, "ThrottlingException")
    server.script[-1][1]["x-amz-retry-after"] = "3000"
    server.error(400, "ThrottlingException")
    server.script[-1][1]["x-amz-retry-after"] = "60000"
    lean(server.url, attempts=3)._make_api_call("GetItem", {})
    first, second = delays["lean"]
    assert first >= 3
    assert 5 <= second <= 2 + 5


def test_the_retry_quota_runs_out_after_as_many_requests_as_botocores(
    server: Server, delays: dict[str, list[float]]
) -> None:
    """500 units, 14 a retry: a long outage stops being retried, and the first success gives
    units back."""
    outcomes = both(server, lambda: [server.answer(500) for _ in range(5)], calls=12)
    assert outcomes["lean"] == outcomes["botocore"]
    assert outcomes["lean"][0] < 12 * 5


def test_the_quota_gives_back_what_a_success_took() -> None:
    quota = RetryQuota(capacity=30)
    assert quota.acquire(14)
    assert quota.acquire(14)
    assert not quota.acquire(14)
    quota.release(14)
    assert quota.acquire(14)
    quota.release(100)
    assert quota.acquire(30)


def test_a_connection_the_server_closed_while_idle_is_reopened_at_once(
    delays: dict[str, list[float]],
) -> None:
    """The request on the stale connection never reached the server: sent again on a new
    one, it is not one of the attempts, which all remain for the answers."""
    with Server(idle_timeout_s=0.2).running() as server:
        client = lean(server.url, attempts=3)
        client._make_api_call("GetItem", {"n": 1})
        threading.Event().wait(0.5)  # the server closes the idle connection
        server.answer(500)
        server.answer(500)
        client._make_api_call("GetItem", {"n": 2})
        assert [json.loads(seen.body)["n"] for seen in server.seen] == [1, 2, 2, 2]
        assert len({seen.client_port for seen in server.seen}) == 2
        assert len(delays["lean"]) == 2


def test_an_endpoint_that_refuses_connections_raises_botocores_error_after_every_attempt(
    delays: dict[str, list[float]],
) -> None:
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        lean("http://127.0.0.1:9", attempts=3)._make_api_call("GetItem", {})
    assert len(delays["lean"]) == 2


def test_an_answer_slower_than_the_read_timeout_is_tried_again_then_raised(
    server: Server, delays: dict[str, list[float]]
) -> None:
    server.script.extend([(SILENT, {}, b"")] * 2)
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        lean(server.url, attempts=2, read_timeout_s=0.2)._make_api_call("GetItem", {})
    assert len(server.seen) == 2


def test_each_thread_keeps_one_connection_alive(server: Server) -> None:
    client = lean(server.url)
    threads = [
        threading.Thread(target=lambda: [client._make_api_call("GetItem", {}) for _ in range(20)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(server.seen) == 80
    assert len({seen.client_port for seen in server.seen}) == 4


# ------------------------------------------------------------------------ botocore's tables


def test_the_tables_copied_from_botocore_are_botocores() -> None:
    """If botocore changes its standard mode or DynamoDB's model, these fail first."""
    standard = botocore.retries.standard
    model = botocore.session.get_session().get_service_model("dynamodb")
    assert {
        shape.name: tuple(shape.members) for shape in model.error_shapes
    } == dynamodb_http.ERROR_MEMBERS
    assert {
        shape.name for shape in model.error_shapes if shape.metadata.get("retryable")
    } == dynamodb_http.MODELLED_RETRYABLE
    assert {
        operation: frozenset(shape.name for shape in model.operation_model(operation).error_shapes)
        for operation in dynamodb_http.SERVED
    } == dynamodb_http.OPERATION_ERRORS
    assert not any(
        shape.metadata["retryable"].get("throttling")
        for shape in model.error_shapes
        if shape.metadata.get("retryable")
    )
    assert (
        set(standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES)
        == dynamodb_http.THROTTLING_CODES
    )
    assert (
        set(standard.TransientRetryableChecker._TRANSIENT_ERROR_CODES)
        == dynamodb_http.TRANSIENT_CODES
    )
    assert (
        set(standard.TransientRetryableChecker._TRANSIENT_STATUS_CODES)
        == dynamodb_http.TRANSIENT_STATUSES
    )
    backoff = standard.ExponentialBackoff
    assert (
        backoff._SERVICE_BACKOFF_CONFIG["dynamodb"]["non_throttling_base_scale"]
        == dynamodb_http.TRANSIENT_BASE_S
    )
    assert (
        backoff._DEFAULT_BACKOFF_CONFIG["throttling_base_scale"] == dynamodb_http.THROTTLING_BASE_S
    )
    assert dynamodb_http.MAX_BACKOFF_S == backoff._MAX_BACKOFF
    assert dynamodb_http.RETRY_AFTER_EXTRA_S == backoff._RETRY_AFTER_MAX_ADDITIONAL
    quota = standard.RetryQuotaChecker
    assert dynamodb_http.RETRY_COST == quota._RETRY_COST
    assert dynamodb_http.THROTTLING_RETRY_COST == quota._THROTTLING_RETRY_COST
    assert dynamodb_http.NO_RETRY_INCREMENT == quota._NO_RETRY_INCREMENT
    assert dynamodb_http.QUOTA_CAPACITY == botocore.retries.quota.RetryQuota.INITIAL_CAPACITY
    for operation in dynamodb_http.SERVED:
        assert model.operation_model(operation).http == {"method": "POST", "requestUri": "/"}
    assert model.metadata["targetPrefix"] + "." == dynamodb_http.TARGET_PREFIX


# ------------------------------------------------------------------------ the endpoint

AWS_REGIONS = ["us-east-1", "eu-central-2", "ap-southeast-7", "mx-central-1", "il-central-1"]
CHINA_REGIONS = ["cn-north-1", "cn-northwest-1"]
OTHER_PARTITIONS = ["us-gov-west-1", "us-iso-east-1", "us-isob-east-1", "eusc-de-east-1"]


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> pytest.MonkeyPatch:
    """No endpoint, proxy, account or variant settings from this machine; no config file."""
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_USE_FIPS_ENDPOINT",
        "AWS_USE_DUALSTACK_ENDPOINT",
        "AWS_ACCOUNT_ID",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE",
        "AWS_PROFILE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    return monkeypatch


def botocores_endpoint(region: str, host: str | None = None) -> str:
    return str(session().create_client("dynamodb", region, endpoint_url=host).meta.endpoint_url)


@pytest.mark.parametrize("region", AWS_REGIONS + CHINA_REGIONS)
def test_the_regional_endpoint_is_botocores(
    clean_environment: pytest.MonkeyPatch, region: str
) -> None:
    assert endpoint_url(region, None, session()) == botocores_endpoint(region)


@pytest.mark.parametrize("region", [*OTHER_PARTITIONS, "local", "us-east-1-fips"])
def test_other_partitions_go_to_botocore(
    clean_environment: pytest.MonkeyPatch, region: str
) -> None:
    assert endpoint_url(region, None, session()) is None


@pytest.mark.parametrize(
    ("variables", "host", "expected"),
    [
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}, None, "http://127.0.0.1:4566"),
        (
            {"AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_DYNAMODB": "http://ddb:2"},
            None,
            "http://ddb:2",
        ),
        ({"AWS_ENDPOINT_URL_DYNAMODB": "http://ddb:2"}, "http://meta:3", "http://meta:3"),
        (
            {"AWS_ENDPOINT_URL": "http://all:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
            None,
            "https://dynamodb.eu-west-1.amazonaws.com",
        ),
    ],
    ids=["global", "service-first", "host-first", "ignored"],
)
def test_a_configured_endpoint_is_botocores(
    clean_environment: pytest.MonkeyPatch,
    variables: dict[str, str],
    host: str | None,
    expected: str,
) -> None:
    for name, value in variables.items():
        clean_environment.setenv(name, value)
    assert endpoint_url(REGION, host, session()) == expected
    assert botocores_endpoint(REGION, host) == expected


def test_an_endpoint_in_the_config_file_is_botocores(
    clean_environment: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    (tmp_path / "config").write_text(
        "[default]\nservices = local\n[services local]\ndynamodb =\n  endpoint_url = http://cfg:5\n"
    )
    assert endpoint_url(REGION, None, session()) == "http://cfg:5" == botocores_endpoint(REGION)


@pytest.mark.parametrize(
    ("variables", "host"),
    [
        ({"AWS_USE_FIPS_ENDPOINT": "true"}, None),
        ({"AWS_USE_DUALSTACK_ENDPOINT": "true"}, None),
        ({"AWS_ACCOUNT_ID_ENDPOINT_MODE": "required"}, None),
        ({"HTTPS_PROXY": "http://proxy:3128"}, None),
        ({"HTTP_PROXY": "http://proxy:3128"}, "http://ddb.internal:8000"),
        ({}, "http://127.0.0.1:4566/dynamodb"),
        ({}, "ftp://127.0.0.1"),
    ],
    ids=["fips", "dual-stack", "account-id-required", "https-proxy", "http-proxy", "path", "ftp"],
)
def test_settings_the_lean_client_does_not_implement_go_to_botocore(
    clean_environment: pytest.MonkeyPatch, variables: dict[str, str], host: str | None
) -> None:
    for name, value in variables.items():
        clean_environment.setenv(name, value)
    assert endpoint_url(REGION, host, session()) is None


def test_a_proxy_is_not_used_for_hosts_it_is_bypassed_for(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("HTTP_PROXY", "http://proxy:3128")
    clean_environment.setenv("NO_PROXY", "127.0.0.1")
    assert endpoint_url(REGION, "http://127.0.0.1:4566", session()) == "http://127.0.0.1:4566"


class FakeBotocore:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def _make_api_call(self, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        self.calls.append(operation_name)
        return {"from": "botocore"}


def test_other_operations_go_to_botocore_and_item_operations_do_not(server: Server) -> None:
    fake = FakeBotocore()
    client = lean(server.url, botocore_client=lambda: fake)
    for operation in ("DescribeTable", "CreateTable", "UpdateTimeToLive", "ListTables"):
        assert client._make_api_call(operation, {}) == {"from": "botocore"}
    client._make_api_call("GetItem", {})
    assert fake.calls == ["DescribeTable", "CreateTable", "UpdateTimeToLive", "ListTables"]
    assert len(server.seen) == 1


def test_everything_goes_to_botocore_where_the_lean_client_cannot_serve(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    fake = FakeBotocore()
    client = DynamoDBHttp(
        REGION,
        max_attempts=1,
        connect_timeout_s=1,
        read_timeout_s=1,
        botocore_client=lambda: fake,
        session=session,
    )
    client._make_api_call("GetItem", {})
    client._make_api_call("Query", {})
    assert fake.calls == ["GetItem", "Query"]


def test_without_credentials_a_call_fails_as_botocores_and_they_are_looked_up_again(
    server: Server, clean_environment: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        clean_environment.delenv(name, raising=False)
    clean_environment.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = DynamoDBHttp(
        REGION,
        server.url,
        max_attempts=1,
        connect_timeout_s=1,
        read_timeout_s=1,
        botocore_client=refuse,
    )
    with pytest.raises(botocore.exceptions.NoCredentialsError):
        client._make_api_call("GetItem", {})
    clean_environment.setenv("AWS_ACCESS_KEY_ID", KEY)
    clean_environment.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    client._make_api_call("GetItem", {})
    assert len(server.seen) == 1


# ------------------------------------------------------------------------ under pynamodb


@pytest.fixture
def bound(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """The store bound to the stand-in through the lean client; bound back to botocore (and
    moto) after the test."""
    from parley.adapters.dynamodb import base
    from tests.functional.conftest import TABLE

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    base.bind("parley-stand-in", REGION, host=server.url, client="lean")
    yield server
    base.bind(TABLE, "us-east-1", client="botocore")


def test_a_failed_condition_is_pynamodbs_put_error_with_its_code(bound: Server) -> None:
    from parley.adapters.dynamodb.base import condition_failed, conditional
    from parley.adapters.dynamodb.items import ChannelMemberItem

    member = ChannelMemberItem(
        "CH#C1", "MEMBER#U1", channelId="C1", userId="U1", workspaceId="W1", joinedAt="t"
    )
    bound.error(400, "ConditionalCheckFailedException", "The conditional request failed")
    assert not conditional(lambda: member.save(condition=ChannelMemberItem.PK.does_not_exist()))
    bound.error(400, "ConditionalCheckFailedException", "The conditional request failed")
    with pytest.raises(PutError) as raised:
        member.save(condition=ChannelMemberItem.PK.does_not_exist())
    assert condition_failed(raised.value)
    assert raised.value.cause_response_code == "ConditionalCheckFailedException"
    assert raised.value.cause_response_message == "The conditional request failed"
    assert json.loads(bound.seen[0].body)["ConditionExpression"] == "attribute_not_exists (#0)"


def test_a_cancelled_transaction_carries_its_reasons(bound: Server) -> None:
    from parley.adapters.dynamodb.base import cancelled_by_condition, transaction
    from parley.adapters.dynamodb.items import ChannelItem, ChannelMemberItem

    bound.error(
        400,
        "TransactionCanceledException",
        CancellationReasons=[{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "x"}],
    )
    member = ChannelMemberItem(
        "CH#C1", "MEMBER#U1", channelId="C1", userId="U1", workspaceId="W1", joinedAt="t"
    )
    channel = ChannelItem("CH#C1", "META")

    def leave() -> None:
        with transaction() as tx:
            tx.delete(member, condition=ChannelMemberItem.PK.exists())
            tx.update(channel, actions=[ChannelItem.memberCount.add(-1)])

    with pytest.raises(TransactWriteError) as raised:
        leave()
    assert raised.value.cause_response_code == "TransactionCanceledException"
    assert not cancelled_by_condition(raised.value, 0)
    assert cancelled_by_condition(raised.value, 1)
    assert "ClientRequestToken" in json.loads(bound.seen[0].body)


def test_bind_puts_the_lean_client_under_every_model_unless_told_otherwise(
    bound: Server,
) -> None:
    from parley.adapters.dynamodb import base, items

    shared = base.client()
    assert isinstance(shared, DynamoDBHttp)
    assert isinstance(base.Item._get_connection().connection, LeanConnection)
    for model in [m for m in vars(items).values() if isinstance(m, type)]:
        if issubclass(model, base.Item):
            assert model._get_connection().connection.client is shared, model.__name__
    with pytest.raises(RuntimeError, match="lean client"):
        base.botocore_client()
    base.bind("parley-stand-in", REGION, host=bound.url, client="botocore")
    assert base.botocore_client().meta.endpoint_url == bound.url
    with pytest.raises(ValueError, match="client must be"):
        base.bind("parley-stand-in", REGION, client="boto3")


def test_the_lean_client_keeps_pynamodbs_attempts_and_timeouts(
    bound: Server, delays: dict[str, list[float]]
) -> None:
    from pynamodb.exceptions import GetError

    from parley.adapters.dynamodb.base import DYNAMODB_MAX_ATTEMPTS, Item, get_or_none
    from parley.adapters.dynamodb.items import ChannelItem

    for _ in range(DYNAMODB_MAX_ATTEMPTS + 1):
        bound.error(400, "ProvisionedThroughputExceededException")
    with pytest.raises(GetError) as raised:
        get_or_none(ChannelItem, "CH#C1", "META")
    assert raised.value.cause_response_code == "ProvisionedThroughputExceededException"
    assert len(bound.seen) == DYNAMODB_MAX_ATTEMPTS
    client = Item._get_connection().connection.client  # pynamodb's timeouts, as botocore has
    assert client._connect_timeout_s == Item.Meta.connect_timeout_seconds  # type: ignore[attr-defined]  # Meta's attributes are set by pynamodb's metaclass
    assert client._read_timeout_s == Item.Meta.read_timeout_seconds  # type: ignore[attr-defined]  # Meta's attributes are set by pynamodb's metaclass


def test_the_functions_take_the_client_from_their_environment() -> None:
    from parley.config import ConfigError, Settings

    assert Settings.from_environ({"TABLE_NAME": "parley"}).dynamodb_client == "lean"
    opted_out = {"TABLE_NAME": "parley", "PARLEY_DYNAMODB_CLIENT": "botocore"}
    assert Settings.from_environ(opted_out).dynamodb_client == "botocore"
    with pytest.raises(ConfigError, match="PARLEY_DYNAMODB_CLIENT"):
        Settings.from_environ({"TABLE_NAME": "parley", "PARLEY_DYNAMODB_CLIENT": "boto3"})
