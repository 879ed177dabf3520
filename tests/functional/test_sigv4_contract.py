"""The layer's one SigV4 signer (`parley.adapters.sigv4`) held to botocore's `SigV4Auth` for
OpenSearch's requests: opensearch-py's own requests transport, signed by `EsSigning`, makes
each kind of request the layer sends (index template, alias checks, a wildcard index, bulk
with a query string, search with encoded parameters, delete), and each signature must be the
one SigV4Auth computes for the same method, URL, headers and body. No sockets: the transport
adapter's `send` takes the request and answers it.

The signer's other users are held to botocore the same way where their requests are made:
DynamoDB's in test_dynamodb_http.py, @connections' in test_connections_api.py."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import botocore.auth
import pytest
import requests
import requests.adapters
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials

from parley.adapters.opensearch import EsSigning, connect
from parley.adapters.sigv4 import signed_headers
from parley.search import mapping

NOW = datetime.datetime(2026, 12, 3, 11, 39, 12, tzinfo=datetime.UTC)
KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEJr//////////wEaDH0+session/token=="
REGION = "eu-west-1"
DOMAIN = "https://search-parley-abc123.eu-west-1.es.amazonaws.com"
SIGNATURE = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[requests.PreparedRequest]:
    """The requests opensearch-py's transport sends, answered 200 with `{}` (a bulk with an
    item per action) instead of going out; botocore signs at NOW."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    taken: list[requests.PreparedRequest] = []

    def send(
        adapter: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **_: Any
    ) -> requests.Response:
        taken.append(request)
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        actions = raw.count(b'"index"') if request.path_url.startswith("/_bulk") else 0
        items = ",".join(['{"index":{"status":201}}'] * actions)
        response._content = f'{{"items":[{items}]}}'.encode() if actions else b"{}"
        response.request = request
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return taken


def botocores(request: requests.PreparedRequest) -> dict[str, str]:
    """SigV4Auth's headers for the request's method, URL, signed headers and body."""
    headers = {
        name: request.headers[name]
        for name in ("Content-Type", "X-Amz-Content-SHA256")
        if name in request.headers
    }
    aws = AWSRequest(request.method, request.url, headers=headers, data=request.body or b"")
    botocore.auth.SigV4Auth(Credentials(KEY, SECRET, TOKEN), "es", REGION).add_auth(aws)
    return {name: str(aws.headers[name]) for name in SIGNATURE}


REQUESTS: dict[str, Callable[[Any], object]] = {
    "index-template": lambda client: client.indices.put_index_template(
        name=mapping.TEMPLATE, body=mapping.index_template()
    ),
    "alias-exists": lambda client: client.indices.exists_alias(name=mapping.WRITE_ALIAS),
    "wildcard-index": lambda client: client.indices.get(index=f"{mapping.INDEX_PREFIX}*"),
    "bulk-refreshed": lambda client: client.bulk(
        body=[
            {"index": {"_index": "messages-v1", "_id": "C1:1", "version": 3}},
            {"text": "h\u00e9llo \U0001f600"},
        ],
        refresh="true",
    ),
    "search-with-parameters": lambda client: client.search(
        index=mapping.READ_ALIAS,
        body={"query": {"match": {"text": "h\u00e9llo w\u00f6rld"}}},
        params={"size": 20, "from": 40, "q": "text:a b&c=d"},
    ),
    "delete-ignoring-unavailable": lambda client: client.indices.delete(
        index="messages-v1", ignore_unavailable=True
    ),
}


@pytest.mark.parametrize("call", REQUESTS.values(), ids=REQUESTS.keys())
def test_every_opensearch_request_is_signed_as_sigv4auth_signs_it(
    sent: list[requests.PreparedRequest], call: Callable[[Any], object]
) -> None:
    client = connect(DOMAIN, REGION)
    auth = client.transport.get_connection().session.auth
    assert isinstance(auth, EsSigning)
    auth.clock = NOW.timestamp
    call(client)
    (request,) = sent
    assert {name: request.headers[name] for name in SIGNATURE} == botocores(request)
    names = request.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    assert names == "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
    assert request.headers["Host"] == DOMAIN.removeprefix("https://")


def test_the_query_string_is_signed_in_pairs_sorted_by_name_then_value() -> None:
    url = "https://search.example.com/messages/_search?size=2&from=0&a=2&a=1&flag&q=x%20y"
    request = AWSRequest("GET", url, data=b"")
    credentials = Credentials(KEY, SECRET)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
        botocore.auth.SigV4Auth(credentials, "es", REGION).add_auth(request)
    ours = signed_headers(
        "GET",
        "search.example.com",
        "/messages/_search",
        b"",
        query=url.split("?", 1)[1],
        service="es",
        region=REGION,
        credential=ReadOnlyCredentials(KEY, SECRET, None),
        now=NOW.timestamp(),
    )
    assert ours["Authorization"] == request.headers["Authorization"]


def test_a_local_node_over_plain_http_is_not_signed() -> None:
    client = connect("http://127.0.0.1:9200", REGION)
    assert client.transport.get_connection().session.auth is None
