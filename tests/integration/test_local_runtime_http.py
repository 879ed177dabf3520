"""The local HTTP API against the runtime's fixture application: routes, the JWT authorizer,
payload format 2.0 both ways, CORS, limits and function isolation."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
import requests

from local.stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def token(runtime_stack: Stack) -> str:
    return runtime_stack.login("http-tester").id_token


def call(
    stack: Stack, method: str, path: str, token: str | None = None, **kwargs: Any
) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if token:
        headers["authorization"] = f"Bearer {token}"
    return requests.request(method, stack.http_url + path, headers=headers, timeout=20, **kwargs)


def event_of(reply: requests.Response) -> dict[str, Any]:
    assert reply.status_code == 200, reply.text
    event: dict[str, Any] = reply.json()
    return event


@pytest.mark.parametrize(
    ("method", "path", "route_key", "parameters"),
    [
        ("GET", "/items/special", "GET /items/special", None),
        ("GET", "/items/42", "GET /items/{id}", {"id": "42"}),
        ("GET", "/items/a%0Ab%0D%E2%80%A8c", "GET /items/{id}", {"id": "a\nb\r\u2028c"}),
        ("PUT", "/files/a/b%20c.txt", "ANY /files/{proxy+}", {"proxy": "a/b c.txt"}),
        ("POST", "/items/42", "$default", None),
        ("GET", "/nothing/here", "$default", None),
    ],
)
def test_requests_reach_the_most_specific_route(
    runtime_stack: Stack,
    token: str,
    method: str,
    path: str,
    route_key: str,
    parameters: dict[str, str] | None,
) -> None:
    event = event_of(call(runtime_stack, method, path, token))
    assert event["routeKey"] == route_key
    assert event["requestContext"]["routeKey"] == route_key
    assert event.get("pathParameters") == parameters


def test_the_event_is_payload_format_2(runtime_stack: Stack, token: str) -> None:
    reply = call(
        runtime_stack,
        "GET",
        "/items/7?tag=a&tag=b&empty=",
        token,
        headers={"X-Custom": "Value", "Cookie": "session=1; theme=dark"},
    )
    event = event_of(reply)
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/items/7"
    assert event["rawQueryString"] == "tag=a&tag=b&empty="
    assert event["queryStringParameters"] == {"tag": "a,b", "empty": ""}
    assert event["cookies"] == ["session=1", "theme=dark"]
    assert event["headers"]["x-custom"] == "Value"
    assert "cookie" not in event["headers"]
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    context = event["requestContext"]
    assert context["accountId"] == "123456789012"
    assert context["stage"] == "$default"
    assert context["http"]["method"] == "GET"
    assert context["http"]["path"] == "/items/7"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["requestId"] == reply.headers["apigw-requestid"]
    assert isinstance(context["timeEpoch"], int)
    claims = context["authorizer"]["jwt"]["claims"]
    assert claims["cognito:username"] == "http-tester"
    assert claims["token_use"] == "id"
    assert isinstance(claims["exp"], str)


def test_bodies_are_text_or_base64_by_content_type(runtime_stack: Stack, token: str) -> None:
    text = event_of(call(runtime_stack, "POST", "/echo", token, json={"a": 1}))
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": 1}', False)
    binary = event_of(
        call(
            runtime_stack,
            "POST",
            "/echo",
            token,
            data=b"\x00\xff",
            headers={"content-type": "application/octet-stream"},
        )
    )
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x00\xff"


def test_access_tokens_pass_too(runtime_stack: Stack) -> None:
    access = runtime_stack.login("http-tester").access_token
    event = event_of(call(runtime_stack, "GET", "/items/1", access))
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["token_use"] == "access"
    assert event["requestContext"]["authorizer"]["jwt"]["scopes"] == [
        "aws.cognito.signin.user.admin"
    ]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer nonsense", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."],
)
def test_without_a_valid_token_the_gateway_answers_401(
    runtime_stack: Stack, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    reply = call(runtime_stack, "GET", "/items/1", headers=headers)
    assert reply.status_code == 401
    assert reply.json() == {
        "message": "Unauthorized",
        "error": {"code": "unauthorized", "message": "Unauthorized"},
    }


def test_a_route_without_authorizer_needs_no_token(runtime_stack: Stack) -> None:
    assert call(runtime_stack, "GET", "/env/a").status_code == 200


@pytest.mark.parametrize(
    ("mode", "status", "body", "content_type"),
    [
        ("bare", 200, b'{"bare": true}', "application/json"),
        ("text", 200, b"plain", "application/json"),
        ("binary", 200, b"\x00\x01\x02", "application/octet-stream"),
        ("raise", 500, b'{"message": "Internal Server Error"}', "application/json"),
        ("malformed", 500, b'{"message": "Internal Server Error"}', "application/json"),
        ("sleep", 500, b'{"message": "Internal Server Error"}', "application/json"),
    ],
)
def test_function_results_map_like_api_gateway(
    runtime_stack: Stack, token: str, mode: str, status: int, body: bytes, content_type: str
) -> None:
    reply = call(runtime_stack, "GET", f"/items/1?mode={mode}", token)
    assert reply.status_code == status
    assert reply.content == body
    assert reply.headers["content-type"].startswith(content_type)


def test_an_integration_timeout_is_a_503(runtime_stack: Stack, token: str) -> None:
    started = time.monotonic()
    reply = call(runtime_stack, "GET", "/slow?mode=sleep", token)
    assert time.monotonic() - started < 1.5
    assert (reply.status_code, reply.json()) == (503, {"message": "Service Unavailable"})


def test_cookies_become_set_cookie_headers(runtime_stack: Stack, token: str) -> None:
    reply = call(runtime_stack, "GET", "/items/1?mode=cookies", token)
    assert reply.status_code == 204
    assert reply.raw.headers.getlist("set-cookie") == ["a=1", "b=2; Path=/"]


def test_cors_preflight_is_answered_by_the_gateway(runtime_stack: Stack) -> None:
    reply = call(
        runtime_stack,
        "OPTIONS",
        "/items/1",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert reply.status_code == 204
    assert reply.headers["access-control-allow-origin"] == "https://app.example.com"
    assert reply.headers["access-control-allow-methods"] == "GET,POST"
    assert reply.headers["access-control-allow-headers"] == "authorization,content-type"
    assert reply.headers["access-control-max-age"] == "600"


def test_cors_headers_come_from_the_configuration_not_the_function(
    runtime_stack: Stack, token: str
) -> None:
    allowed = call(
        runtime_stack,
        "GET",
        "/items/1?mode=cookies",
        token,
        headers={"Origin": "https://app.example.com"},
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert allowed.headers["access-control-expose-headers"] == "x-request-id"
    other = call(
        runtime_stack, "GET", "/items/1?mode=cookies", token, headers={"Origin": "https://x.test"}
    )
    assert "access-control-allow-origin" not in other.headers


def test_bodies_over_10_mb_are_refused(runtime_stack: Stack, token: str) -> None:
    reply = call(runtime_stack, "POST", "/echo", token, data=b"x" * (10 * 1024 * 1024 + 1))
    assert reply.status_code == 413
    assert reply.json() == {
        "message": "Request Entity Too Large",
        "error": {"code": "too_large", "message": "Request Entity Too Large"},
    }


def test_a_request_line_over_api_gateways_quota_is_a_json_413(
    runtime_stack: Stack, token: str
) -> None:
    assert call(runtime_stack, "GET", "/items/1?q=" + "x" * 9_000, token).status_code == 200
    reply = call(runtime_stack, "GET", "/items/1?q=" + "%C3%90" * 2_000, token)
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "too_large"


def test_malformed_requests_get_answers_not_crashes(runtime_stack: Stack, token: str) -> None:
    reply = call(runtime_stack, "GET", "/items/%ZZ%00?%%=%%", token)
    assert reply.status_code == 200
    assert call(runtime_stack, "GET", "/items/1").status_code == 401


def test_functions_are_isolated_processes_with_their_own_modules_and_environment(
    runtime_stack: Stack,
) -> None:
    a, b = (call(runtime_stack, "GET", f"/env/{name}").json() for name in "ab")
    assert (a["helper"], b["helper"]) == ("helper of a", "helper of b")
    assert (a["own"], b["own"]) == ("a", "b")
    assert (a["shared"], b["shared"]) == ("from-globals", "overridden-by-b")
    assert a["pid"] != b["pid"]
    assert a["path"][0].endswith("functions/env_a")
    assert a["path"][1].endswith("layers/shared")
    assert a["cwd"] == a["path"][0]
    assert "/layers/shared/fixture_shared/" in a["layer"]
    environment = a["environment"]
    assert environment["AWS_ENDPOINT_URL"] == runtime_stack.aws_url
    assert environment["AWS_REGION"] == environment["AWS_DEFAULT_REGION"] == "us-east-1"
    assert environment["AWS_ACCESS_KEY_ID"] == "testing"
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "parley-local-EnvAFunction"
    assert environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environment["RESULTS_TABLE"] == "parley-local-ResultsTable"
    assert environment["WS_MANAGEMENT_ENDPOINT"] == (
        runtime_stack.ws_url.replace("ws://", "http://") + "/test"
    )
    assert environment["PYTHONPATH"] is None
    context = a["context"]
    assert context["function_name"] == "parley-local-EnvAFunction"
    assert context["function_version"] == "$LATEST"
    assert context["log_group_name"] == "/aws/lambda/parley-local-EnvAFunction"
    assert 0 < context["remaining_ms"] <= 5000
    json.dumps(a)
