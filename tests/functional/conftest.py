"""Functional fixtures: moto in process, the table built from template.yaml, handlers by path.

No sockets: @connections is a recording fake, so every frame a handler sends is inspectable.
"""

from __future__ import annotations

import base64
import copy
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import handlers, moto_main
from local.handlers import load_function
from local.template import load_yaml

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
TABLE = "parley-unit"
BUCKET = "parley-unit-files"
IMPORT_QUEUE = "parley-unit-imports"
SCHEDULE_GROUP = "parley-unit"
IMPORT_QUEUE_URL = f"https://sqs.us-east-1.amazonaws.com/123456789012/{IMPORT_QUEUE}"
RETENTION_QUEUE = "parley-unit-retention"
RETENTION_QUEUE_URL = f"https://sqs.us-east-1.amazonaws.com/123456789012/{RETENTION_QUEUE}"

ALICE, BOB, CAROL = "u-alice-0000", "u-bob-0000", "u-carol-0000"
DAVE, ERIN = "u-dave-0000", "u-erin-0000"
PROFILES = {
    ALICE: {"name": "Alice Example", "email": "alice@example.com", "cognito:username": "alice"},
    BOB: {"name": "Bob Example", "email": "bob@example.com", "cognito:username": "bob"},
    CAROL: {"name": "Carol Example", "email": "carol@example.com", "cognito:username": "carol"},
    DAVE: {"name": "Dave Example", "email": "dave@example.com", "cognito:username": "dave"},
    ERIN: {"name": "Erin Example", "email": "erin@example.com", "cognito:username": "erin"},
}


def template() -> dict[str, Any]:
    return load_yaml((ROOT / "template.yaml").read_text())  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def template_http_routes() -> set[str]:
    """The HTTP API's route keys ("GET /me"), from ApiFunction's HttpApi events; the
    catch-all event that answers unmatched paths has no path and no key."""
    events = template()["Resources"]["ApiFunction"]["Properties"]["Events"]
    return {
        f"{e['Properties']['Method'].upper()} {e['Properties']['Path']}"
        for e in events.values()
        if e["Type"] == "HttpApi" and "Path" in e["Properties"]
    }


def create_table_from_template(
    name: str, logical_id: str = "AppTable", stream: bool = False
) -> None:
    """The table with the template's keys and GSIs. Without a stream unless asked: moto keeps
    every stream record of a session in memory and slows down as they pile up."""
    props = template()["Resources"][logical_id]["Properties"]
    kwargs: dict[str, Any] = {
        "TableName": name,
        "BillingMode": props["BillingMode"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
    }
    if "GlobalSecondaryIndexes" in props:
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if stream and "StreamSpecification" in props:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    boto3.client("dynamodb").create_table(**kwargs)


class RecordingPoster:
    """@connections stand-in: records frames per connection; ids in `gone` answer 410.

    Every event must carry a string `eventId` (a post without one fails, so the test misses
    the frame); it is kept apart, in `event_ids`, so that tests compare frames without it."""

    def __init__(self) -> None:
        self.frames: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.event_ids: dict[str, list[str]] = defaultdict(list)
        self.gone: set[str] = set()

    def post(self, connection_id: str, data: bytes) -> bool:
        if connection_id in self.gone:
            return False
        frame = json.loads(data)
        event_id = frame.pop("eventId", None)
        if not isinstance(event_id, str) or not event_id:
            raise AssertionError(f"an event without an eventId: {frame}")
        self.event_ids[connection_id].append(event_id)
        self.frames[connection_id].append(frame)
        return True

    def events(self, connection_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [f for f in self.frames[connection_id] if kind is None or f.get("type") == kind]


ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "TABLE_NAME": TABLE,
    "WS_MANAGEMENT_ENDPOINT": "https://f6g7h8i9j0.execute-api.us-east-1.amazonaws.com/dev",
    "POWERTOOLS_METRICS_NAMESPACE": "ParleyTest",
    "POWERTOOLS_SERVICE_NAME": "parley",
    # The authorizer's: tests serve the keys from memory (see test_websocket.py).
    "JWKS_URL": "https://keys.invalid/jwks.json",
    "JWT_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_unit",
    "JWT_AUDIENCE": "unitclient",
    "FILES_BUCKET": BUCKET,
    "MAX_UPLOAD_BYTES": "10485760",
    "IMPORT_QUEUE_URL": IMPORT_QUEUE_URL,
    "RETENTION_QUEUE_URL": RETENTION_QUEUE_URL,
    "MAX_IMPORT_BYTES": "20971520",
    "HTTP_API_URL": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
    "SCHEDULE_GROUP": SCHEDULE_GROUP,
    "SCHEDULED_POSTER_ARN": "arn:aws:lambda:us-east-1:123456789012:function:parley-unit-poster",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/parley-unit-scheduler",
    # moto in process intercepts botocore's requests only (the lean client's would leave
    # the process), and tests count and fake requests with botocore's event hooks; the lean
    # client runs test_dynamodb_contract.py's suite beside botocore's (on moto's server) and
    # test_dynamodb_http.py's byte-level comparison.
    "PARLEY_DYNAMODB_CLIENT": "botocore",
}


@pytest.fixture(scope="session", autouse=True)
def _one_botocore_loader() -> Iterator[None]:
    """Every test rebinds the store (fresh wiring), and pynamodb makes a botocore session
    per connection, each decoding the service models again: 0.1 to 0.7 s a test. Sessions
    sharing one loader decode them once."""
    import botocore.loaders
    import botocore.session
    import pynamodb.connection.base

    loader = botocore.loaders.create_loader()

    def session() -> botocore.session.Session:
        fresh = botocore.session.get_session()
        fresh.register_component("data_loader", loader)
        return fresh

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pynamodb.connection.base, "get_session", session)
        yield


@pytest.fixture(scope="session")
def _mocked_account() -> Iterator[None]:
    """One moto account for the session (starting moto and creating tables costs ~0.6 s)."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in ENVIRONMENT.items():
            patch.setenv(key, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_aws(), moto_main.one_request_at_a_time():
            create_table_from_template(TABLE)
            boto3.client("s3").create_bucket(Bucket=BUCKET)
            queue = boto3.client("sqs").create_queue(QueueName=IMPORT_QUEUE)
            assert queue["QueueUrl"] == IMPORT_QUEUE_URL
            queue = boto3.client("sqs").create_queue(QueueName=RETENTION_QUEUE)
            assert queue["QueueUrl"] == RETENTION_QUEUE_URL
            boto3.client("scheduler").create_schedule_group(Name=SCHEDULE_GROUP)
            yield


@pytest.fixture
def aws(_mocked_account: None) -> Iterator[None]:
    """An empty application table for each test."""
    yield
    table = boto3.resource("dynamodb").Table(TABLE)
    scan: dict[str, Any] = {"ProjectionExpression": "PK, SK"}
    with table.batch_writer() as batch:
        while True:
            page = table.scan(**scan)
            for key in page["Items"]:
                batch.delete_item(Key=key)
            if "LastEvaluatedKey" not in page:
                break
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    scheduler = boto3.client("scheduler")
    for schedule in scheduler.list_schedules(GroupName=SCHEDULE_GROUP)["Schedules"]:
        scheduler.delete_schedule(GroupName=SCHEDULE_GROUP, Name=schedule["Name"])


@pytest.fixture
def poster(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingPoster]:
    """Fresh process-wide wiring per test, with @connections recorded instead of sent."""
    from parley import wiring
    from parley.adapters.fanout import Broadcaster
    from parley.config import settings
    from parley.domain import users

    recording = RecordingPoster()
    settings.cache_clear()
    wiring.configured.cache_clear()
    wiring.broadcaster.cache_clear()
    wiring.file_bucket.cache_clear()
    wiring.scheduler.cache_clear()
    users._provisioned.clear()
    monkeypatch.setattr(wiring, "broadcaster", lambda: Broadcaster(recording, max_workers=4))
    yield recording
    settings.cache_clear()
    wiring.configured.cache_clear()


# What the SSRF guard's resolver answers in unit tests (no sockets): names under
# example.com are public, internal.example.com is private; IP literals are themselves.
FAKE_DNS = {"internal.example.com": ["10.0.0.7"], "metadata.example.com": ["169.254.169.254"]}
PUBLIC_ADDRESS = "93.184.215.14"


def fake_resolve(host: str, port: int) -> list[str]:
    import ipaddress

    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    if host in FAKE_DNS:
        return FAKE_DNS[host]
    if host == "example.com" or host.endswith(".example.com"):
        return [PUBLIC_ADDRESS]
    raise OSError(f"unit tests resolve no {host}")


@pytest.fixture(autouse=True)
def _fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    from parley.apps import urls

    monkeypatch.setattr(urls, "_resolve", fake_resolve)


@pytest.fixture(autouse=True)
def _fresh_send_rates() -> None:
    """Each test's senders start quiet: the rate limit's quiet tier remembers senders per
    process, and tests reuse user and channel ids over fresh tables."""
    from parley.domain import ratelimits

    ratelimits.forget()


class Context(handlers.Context):
    """A Lambda context named for the unit tests."""

    def __init__(self) -> None:
        super().__init__("parley-unit")


def sample_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


class Api:
    """Calls the HTTP API function with payload-2.0 events built from the sample event."""

    def __init__(self) -> None:
        self._base = sample_event("api-get-me.json")
        self._handler = load_function("api").lambda_handler

    def __call__(
        self,
        method: str,
        path: str,
        user: str = ALICE,
        body: Any = None,
        query: dict[str, str] | None = None,
        raw_body: str | None = None,
        binary_body: bytes | None = None,
        bot_token: str | None = None,
        anonymous: bool = False,
    ) -> tuple[int, Any]:
        """As `user`; with `bot_token` or `anonymous`, as a route without the JWT authorizer
        sees it (bot routes, webhooks)."""
        event = copy.deepcopy(self._base)
        event["routeKey"] = f"{method} {path}"
        event["rawPath"] = path
        event["requestContext"]["http"].update(method=method, path=path)
        if bot_token is None and not anonymous:
            claims = {"sub": user, **PROFILES.get(user, {})}
            event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
        else:
            del event["requestContext"]["authorizer"]
            del event["headers"]["authorization"]
        if bot_token is not None:
            event["headers"]["authorization"] = f"Bearer {bot_token}"
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in (query or {}).items())
        event["body"] = (
            raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        )
        if binary_body is not None:  # as API Gateway passes a body that is not text
            event["body"] = base64.b64encode(binary_body).decode()
            event["isBase64Encoded"] = True
        reply = self._handler(event, Context())
        text = reply.get("body")
        return reply["statusCode"], json.loads(text) if text else None


def post(api: Api, cid: str, text: str, user: str = ALICE, **extra: object) -> dict[str, Any]:
    """Posts a message over the HTTP API, expecting it to be created."""
    status, body = api("POST", f"/channels/{cid}/messages", user=user, body={"text": text, **extra})
    assert status == 201, body
    return body["message"]  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


@pytest.fixture
def api(poster: RecordingPoster) -> Api:
    return Api()


WsCall = Callable[..., dict[str, Any]]


@pytest.fixture
def connect(poster: RecordingPoster) -> Callable[[str, str, str], None]:
    """Registers a live connection as $connect would after the authorizer allowed it."""
    handler = load_function("ws_connect").lambda_handler

    def _connect(connection_id: str, user_id: str, workspace_id: str) -> None:
        event = sample_event("ws_connect.json")
        event["requestContext"]["connectionId"] = connection_id
        event["requestContext"]["authorizer"] = {
            "principalId": user_id,
            "userId": user_id,
            "workspaceId": workspace_id,
        }
        assert handler(event, Context())["statusCode"] == 200

    return _connect


def ws_event(
    sample: str, connection_id: str, user_id: str, workspace_id: str, body: Any
) -> dict[str, Any]:
    event = sample_event(sample)
    event["requestContext"]["connectionId"] = connection_id
    event["requestContext"]["authorizer"] = {
        "principalId": user_id,
        "userId": user_id,
        "workspaceId": workspace_id,
    }
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


@pytest.fixture
def workspace(api: Api) -> dict[str, str]:
    """Alice's workspace with Bob invited in; Carol is an outsider. Returns ids."""
    status, created = api("POST", "/workspaces", body={"name": "Acme"})
    assert status == 201
    wid = created["workspace"]["id"]
    _, invite = api("POST", f"/workspaces/{wid}/invites")
    status, _ = api("POST", f"/invites/{invite['invite']['code']}/accept", user=BOB)
    assert status == 200
    _, listed = api("GET", f"/workspaces/{wid}/channels")
    general = next(c["id"] for c in listed["channels"] if c["name"] == "general")
    api("GET", "/me", user=CAROL)
    return {"wid": wid, "general": general}


class SlackApi:
    """Calls Slack's Web API function (/api/{method}) as slack_sdk does: JSON or a form
    POSTed, or a GET with a query string; the token as a bearer or the `token` field."""

    def __init__(self) -> None:
        self._base = sample_event("slack_api-chat-post-message.json")
        self._handler = load_function("slack_api").lambda_handler

    def __call__(
        self,
        method: str,
        token: str | None,
        *,
        json_body: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        raw: str | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        import urllib.parse

        event = copy.deepcopy(self._base)
        http = "GET" if query is not None and json_body is None and form is None else "POST"
        event["routeKey"] = f"{http} /api/{{method}}"
        event["rawPath"] = f"/api/{method}"
        event["pathParameters"] = {"method": method}
        event["requestContext"]["http"].update(method=http, path=f"/api/{method}")
        event["rawQueryString"] = urllib.parse.urlencode(query or {})
        headers = event["headers"]
        headers.pop("authorization", None)
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        body = raw
        if json_body is not None:
            body = json.dumps(json_body)
        elif form is not None:
            body, content_type = urllib.parse.urlencode(form), "application/x-www-form-urlencoded"
        event["body"] = body
        headers["content-type"] = content_type
        reply = self._handler(event, Context())
        return reply["statusCode"], json.loads(reply["body"]), reply["headers"]


@pytest.fixture
def slack(poster: RecordingPoster) -> SlackApi:
    return SlackApi()


@pytest.fixture(params=("lean", "botocore"))
def dynamodb_client(request: pytest.FixtureRequest) -> str:
    """Each client the store can be bound to (`base.CLIENTS`), in turn: a test that takes it
    holds for both (tests/functional/test_dynamodb_contract.py)."""
    return str(request.param)
