"""The @connections client's SigV4 signature against boto3's own, without sockets: boto3's
`apigatewaymanagementapi` client builds and signs `post_to_connection`, a `before-send`
hook takes the request instead of sending it, and ours must carry the same signature."""

from __future__ import annotations

import datetime
import urllib.parse
from typing import Any

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.credentials import ReadOnlyCredentials

from parley.adapters.connections import SERVICE, Answer, ConnectionsApi, ConnectionsApiError
from parley.adapters.sigv4 import host_header, signed_headers

NOW = datetime.datetime(2026, 12, 3, 11, 39, 12, tzinfo=datetime.UTC)
TOKEN = "FwoGZXIvYXdzEJr//////////wEaDH0+session/token=="
SIGNATURE = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")


class _NoBody:
    def stream(self, **kwargs: Any) -> Any:
        return iter([b""])


def boto3_request(
    endpoint: str,
    region: str,
    credentials: ReadOnlyCredentials,
    connection_id: str,
    data: bytes,
    monkeypatch: pytest.MonkeyPatch,
    now: datetime.datetime = NOW,
) -> AWSPreparedRequest:
    """The request boto3 would send for `post_to_connection`, signed at `now`."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: now)
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token,
    )
    sent: list[AWSPreparedRequest] = []

    def take(request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse:
        sent.append(request)
        return AWSResponse(request.url, 200, {}, _NoBody())

    client.meta.events.register_first("before-send.*.PostToConnection", take)
    client.post_to_connection(ConnectionId=connection_id, Data=data)
    return sent[0]


def signed(request: AWSPreparedRequest) -> dict[str, str | None]:
    """The headers that carry the signature (botocore holds them as bytes once prepared)."""
    values = {name: request.headers.get(name) for name in SIGNATURE}
    return {n: v.decode() if isinstance(v, bytes) else v for n, v in values.items()}


def ours(
    endpoint: str, region: str, credentials: ReadOnlyCredentials, path: str, data: bytes, now: float
) -> dict[str, str]:
    host = host_header(urllib.parse.urlsplit(endpoint))
    return signed_headers(
        "POST", host, path, data, service=SERVICE, credential=credentials, region=region, now=now
    )


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com/dev",
        "https://f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com:443/dev/",
        "http://127.0.0.1:3001/test",
        "https://ws.example.com",
    ],
    ids=["stage", "default-port-and-slash", "local-port", "custom-domain"],
)
@pytest.mark.parametrize(
    "connection_id",
    ["L0SM9cOFvHcCIhw=", "a+b/c=d", "x~y_z.-0"],
    ids=["base64", "+/=", "unreserved"],
)
@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "session"])
def test_the_signature_is_botocores(
    endpoint: str, connection_id: str, token: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = ReadOnlyCredentials(
        "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token
    )
    data = b'{"type":"message","text":"h\xc3\xa9"}'
    theirs = boto3_request(endpoint, "eu-west-1", credentials, connection_id, data, monkeypatch)
    path = urllib.parse.urlsplit(theirs.url).path
    mine = ours(endpoint, "eu-west-1", credentials, path, data, NOW.timestamp())
    assert {name: mine.get(name) for name in SIGNATURE} == signed(theirs)
    assert mine["Host"] == botocore.auth._host_from_url(theirs.url)  # what botocore signed


def test_the_signature_follows_the_day_and_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The derived key is cached; a new day or a rotated secret must not reuse it."""
    endpoint = "https://f6g7h8i9j0.execute-api.us-east-1.amazonaws.com/dev"
    moments = [NOW, NOW + datetime.timedelta(days=1), NOW + datetime.timedelta(days=1)]
    secrets = ["first-secret", "first-secret", "rotated-secret"]
    for moment, secret in zip(moments, secrets, strict=True):
        credentials = ReadOnlyCredentials("AKIDEXAMPLE", secret, None)
        theirs = boto3_request(
            endpoint, "us-east-1", credentials, "abc=", b"x", monkeypatch, moment
        )
        path = urllib.parse.urlsplit(theirs.url).path
        mine = ours(endpoint, "us-east-1", credentials, path, b"x", moment.timestamp())
        assert mine["Authorization"] == signed(theirs)["Authorization"]


@pytest.mark.parametrize(
    ("status", "error_type", "body", "expected"),
    [
        (
            403,
            "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/",
            b'{"Message":"User is not authorized"}',
            ("AccessDeniedException", "User is not authorized"),
        ),
        (
            413,
            "PayloadTooLargeException",
            b'{"message":"Message too long"}',
            ("PayloadTooLargeException", "Message too long"),
        ),
        (
            400,
            None,
            b'{"__type":"com.amazon.coral.validate#BadRequestException","message":"no"}',
            ("BadRequestException", "no"),
        ),
        (400, None, b'{"code":"BadRequestException"}', ("BadRequestException", "")),
        (502, None, b"<html>Bad Gateway</html>", ("", "<html>Bad Gateway</html>")),
        (403, None, b"", ("", "")),
    ],
    ids=["header-with-suffix", "header", "body-type", "body-code", "not-json", "empty"],
)
def test_an_error_answer_is_read_as_botocore_reads_it(
    status: int, error_type: str | None, body: bytes, expected: tuple[str, str]
) -> None:
    with pytest.raises(ConnectionsApiError) as raised:
        Answer(status, error_type, body).delivered()
    assert raised.value.status == status
    assert (raised.value.error_type, raised.value.message) == expected


@pytest.mark.parametrize(("status", "delivered"), [(200, True), (204, True), (410, False)])
def test_success_is_delivered_and_gone_is_not(status: int, delivered: bool) -> None:
    gone = b'{"message":"Connection is gone"}'
    assert Answer(status, "GoneException" if status == 410 else None, gone).delivered() is delivered


def test_making_the_client_loads_no_certificates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The WebSocket functions build their broadcaster at init: loading the system's
    certificates (ssl.create_default_context, 40 ms here) waits for the first connection."""

    def refuse() -> None:
        raise AssertionError("an SSL context was made at init")

    monkeypatch.setattr("ssl.create_default_context", refuse)
    ConnectionsApi("https://abc123.execute-api.us-east-1.amazonaws.com/prod", "us-east-1")
