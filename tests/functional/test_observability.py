"""Every function flushes its metrics and logs with its context: the request's id as
`correlation_id`, the connection and the user; nothing of a previous invocation; never a
token (observability.py)."""

from __future__ import annotations

import ast
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.conftest import (
    ALICE,
    ROOT,
    Api,
    Context,
    RecordingPoster,
    load_function,
    sample_event,
    template,
    ws_event,
)

# Invoked by API Gateway (HTTP, WebSocket routes, the $connect authorizer): their events
# carry a request id, which the logs must carry as correlation_id.
API_GATEWAY_EVENTS = {"HttpApi", "WebSocket", "Authorizer"}


def _functions() -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def _invoked_by_api_gateway(name: str, resource: dict[str, Any]) -> bool:
    events = (resource["Properties"].get("Events") or {}).values()
    if any(e["Type"] == "HttpApi" for e in events):
        return True
    # WebSocket routes and the authorizer name the function in an integration or authorizer.
    wiring = ("AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Authorizer")
    return any(
        other["Type"] in wiring and name in json.dumps(other["Properties"])
        for other in template()["Resources"].values()
    )


def _decorators(name: str, resource: dict[str, Any]) -> list[ast.expr]:
    path = ROOT / resource["Properties"]["CodeUri"] / "app.py"
    tree = ast.parse(path.read_text())
    handler = next(
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "lambda_handler"
    )
    return handler.decorator_list


def decorator_problems(name: str, resource: dict[str, Any]) -> list[str]:
    decorators = _decorators(name, resource)
    rendered = [ast.unparse(d) for d in decorators]
    problems = []
    if "metrics.log_metrics" not in rendered:
        problems.append(f"{name}: its handler does not flush metrics (@metrics.log_metrics)")
    inject = [d for d in decorators if ast.unparse(d).startswith("logger.inject_lambda_context")]
    keywords = (
        {k.arg: ast.unparse(k.value) for k in getattr(inject[0], "keywords", [])} if inject else {}
    )
    if not inject:
        problems.append(f"{name}: no @logger.inject_lambda_context")
    elif keywords.get("clear_state") != "True":
        problems.append(f"{name}: keys of the previous invocation stay (clear_state=True)")
    if inject and _invoked_by_api_gateway(name, resource) and "correlation_id_path" not in keywords:
        problems.append(f"{name}: no correlation_id_path for API Gateway's request id")
    return problems


@pytest.mark.parametrize("function", sorted(_functions()))
def test_every_handler_flushes_metrics_and_logs_with_the_request_id(function: str) -> None:
    assert decorator_problems(function, _functions()[function]) == []


def test_the_decorator_check_catches_a_handler_without_them(tmp_path: Any) -> None:
    code = tmp_path / "bare"
    code.mkdir()
    (code / "app.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    resource = {"Properties": {"CodeUri": str(code), "Events": {}}}
    assert len(decorator_problems("BareFunction", resource)) == 2
    (code / "app.py").write_text(
        "@logger.inject_lambda_context\n@metrics.log_metrics\ndef lambda_handler(e, c): ...\n"
    )
    assert decorator_problems("BareFunction", resource) == [
        "BareFunction: keys of the previous invocation stay (clear_state=True)"
    ]


# ---------------------------------------------------------------- what the logs carry


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """The JSON lines the shared logger writes (Powertools' own formatter)."""
    from parley.observability import logger

    handler = logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_a_websocket_action_logs_its_request_connection_and_user_and_flushes_its_metrics(
    poster: RecordingPoster,
    api: Api,
    workspace: dict[str, str],
    logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    event = ws_event(
        "ws_send_message.json", "conn-obs", ALICE, workspace["wid"],
        {"action": "sendMessage", "channelId": "C-none", "text": "hi"},
    )  # fmt: skip
    load_function("ws_send_message").lambda_handler(event, Context())
    from parley.observability import logger

    keys = logger.get_current_keys()
    assert keys["correlation_id"] == event["requestContext"]["requestId"]
    assert (keys["connectionId"], keys["userId"]) == ("conn-obs", ALICE)
    assert keys["workspaceId"] == workspace["wid"]

    ok = ws_event(
        "ws_send_message.json", "conn-obs", ALICE, workspace["wid"],
        {"action": "sendMessage", "channelId": workspace["general"], "text": "hi"},
    )  # fmt: skip
    load_function("ws_send_message").lambda_handler(ok, Context())
    flushed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert flushed[-1]["MessageSent"] == [1.0], "the invocation's metrics are flushed with it"


def test_a_previous_invocations_user_does_not_stay_in_the_logs(api: Api, logs: io.StringIO) -> None:
    from parley.observability import logger

    assert api("GET", "/me")[0] == 200
    assert logger.get_current_keys()["userId"] == ALICE
    status, _ = api("POST", "/commands/pxr-not-a-command", body={"text": "x"}, anonymous=True)
    assert status == 404
    assert "userId" not in logger.get_current_keys()


def test_a_refused_frame_is_logged_with_its_request(
    poster: RecordingPoster, logs: io.StringIO
) -> None:
    anonymous = sample_event("ws_default-malformed-json.json")
    load_function("ws_default").lambda_handler(anonymous, Context())
    refused = _lines(logs)[-1]
    assert refused["message"] == "refused frame"
    assert refused["correlation_id"] == anonymous["requestContext"]["requestId"]
    assert refused["connectionId"] == anonymous["requestContext"]["connectionId"]


def test_the_authorizer_never_logs_the_token(poster: RecordingPoster, logs: io.StringIO) -> None:
    secret = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2VjcmV0LXNpZ25hdHVyZQ"
    event = sample_event("authorizer.json")
    event["queryStringParameters"]["token"] = secret
    with pytest.raises(Exception, match="Unauthorized"):
        load_function("authorizer").lambda_handler(event, Context())
    written = logs.getvalue()
    assert "refused connection: bad token" in written
    assert secret not in written
    assert secret.split(".")[2] not in written
    line = _lines(logs)[-1]
    assert line["correlation_id"] == event["requestContext"]["requestId"]
    assert line["connectionId"] == event["requestContext"]["connectionId"]


def test_the_http_api_logs_its_request_and_user_never_the_bearer_token(
    api: Api, logs: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    from parley.observability import logger

    status, _ = api("GET", "/me")
    assert status == 200
    keys = logger.get_current_keys()
    assert keys["correlation_id"] == sample_event("api-get-me.json")["requestContext"]["requestId"]
    assert keys["userId"] == ALICE
    token = sample_event("api-get-me.json")["headers"]["authorization"].split()[-1]
    assert token not in logs.getvalue() + capsys.readouterr().out


def test_only_the_http_api_function_traces_and_never_its_responses() -> None:
    """Tracer where measured worth it (docs/decisions.md): the WebSocket functions would pay
    the X-Ray SDK's import on every cold start; a traced response would carry users' words
    and, on app creation, a bot token."""
    tracing = {
        path.parent.name
        for path in sorted((ROOT / "functions").glob("*/app.py"))
        if "tracer()" in path.read_text()
    }
    assert tracing == {"api"}
    decorators = [ast.unparse(d) for d in _decorators("ApiFunction", _functions()["ApiFunction"])]
    assert "traced.capture_lambda_handler(capture_response=False)" in decorators
