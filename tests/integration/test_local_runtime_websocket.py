"""The local WebSocket API against the runtime's fixture application: the authorizer and
`$connect`, route selection, route responses, errors, size limits, `$disconnect`, and the
`@connections` management API through boto3 and through Parley's own client."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import boto3
import pytest
import requests
from aiohttp import web
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from local.gateway_ws import IDLE_TIMEOUT_S, MAX_CONNECTION_S, WebSocketGateway
from local.sam import WebSocketApi, WsRoute
from local.stack import Stack
from local.workers import Invocation
from parley.adapters.connections import ConnectionsApi, ConnectionsApiError
from tests.integration.conftest import Results

pytestmark = pytest.mark.integration

RECEIVE_TIMEOUT_S = 10


@asynccontextmanager
async def connected(stack: Stack, query: str = "token=allow") -> AsyncIterator[ClientConnection]:
    async with connect(f"{stack.ws_url}?{query}", proxy=None) as ws:
        yield ws


async def receive_json(ws: ClientConnection) -> dict[str, Any]:
    frame = await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT_S)
    document: dict[str, Any] = json.loads(frame)
    return document


async def echo(ws: ClientConnection, message: str | bytes) -> dict[str, Any]:
    await ws.send(message)
    return await receive_json(ws)


def run(work: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(work())


def management(stack: Stack) -> Any:
    endpoint = stack.ws_url.replace("ws://", "http://") + "/test"
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_the_authorizer_and_connect_see_api_gateways_events(
    runtime_stack: Stack, results: Results
) -> None:
    async def work() -> dict[str, Any]:
        async with connected(runtime_stack, "token=allow&tag=a&tag=b") as ws:
            return await echo(ws, json.dumps({"action": "echo"}))

    reply = run(work)
    connection_id = reply["event"]["requestContext"]["connectionId"]
    authorizer_event = results.wait_for("authorizer/last")["event"]
    api_id = reply["event"]["requestContext"]["apiId"]
    assert authorizer_event["type"] == "REQUEST"
    assert authorizer_event["methodArn"] == (
        f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/test/$connect"
    )
    assert authorizer_event["queryStringParameters"]["tag"] == "b"
    assert authorizer_event["multiValueQueryStringParameters"]["tag"] == ["a", "b"]
    assert authorizer_event["requestContext"]["eventType"] == "CONNECT"
    connect_event = results.wait_for(f"connect/{connection_id}")["event"]
    context = connect_event["requestContext"]
    assert (context["routeKey"], context["eventType"]) == ("$connect", "CONNECT")
    assert context["authorizer"] == {"userId": "user-1", "admin": False, "principalId": "user-1"}
    assert context["stage"] == "test"
    assert context["identity"]["sourceIp"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("token=deny", 403),
        ("token=raise", 401),
        ("token=broken", 500),
        ("other=1", 401),
        ("token=", 401),
        ("token=allow&reject=1", 403),
    ],
    ids=["deny", "unauthorized", "malformed-policy", "no-token", "empty-token", "connect-refuses"],
)
def test_refused_handshakes(runtime_stack: Stack, query: str, status: int) -> None:
    async def work() -> None:
        async with connected(runtime_stack, query):
            pytest.fail("the handshake should have been refused")

    with pytest.raises(InvalidStatus) as refusal:
        run(work)
    assert refusal.value.response.status_code == status


def test_messages_are_routed_on_their_action(runtime_stack: Stack) -> None:
    async def work() -> list[dict[str, Any]]:
        async with connected(runtime_stack) as ws:
            return [
                await echo(ws, json.dumps({"action": "echo", "id": 1})),
                await echo(ws, json.dumps({"action": "unknown"})),
                await echo(ws, "not json"),
                await echo(ws, b"\x00\x01binary"),
            ]

    routed, unknown, garbage, binary = run(work)
    assert routed["route"] == "echo"
    event = routed["event"]
    assert event["body"] == json.dumps({"action": "echo", "id": 1})
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert (context["routeKey"], context["eventType"]) == ("echo", "MESSAGE")
    assert context["messageId"]
    assert context["authorizer"]["userId"] == "user-1"
    assert context["authorizer"]["principalId"] == "user-1"
    assert unknown["route"] == garbage["route"] == binary["route"] == "$default"
    assert garbage["event"]["body"] == "not json"
    assert binary["event"]["isBase64Encoded"] is True
    assert base64.b64decode(binary["event"]["body"]) == b"\x00\x01binary"


def test_a_failing_function_gets_api_gateways_error_frame(runtime_stack: Stack) -> None:
    async def work() -> tuple[dict[str, Any], dict[str, Any]]:
        async with connected(runtime_stack) as ws:
            error = await echo(ws, json.dumps({"action": "boom"}))
            return error, await echo(ws, json.dumps({"action": "echo"}))

    error, after = run(work)
    assert error["message"] == "Internal server error"
    assert set(error) == {"message", "connectionId", "requestId"}
    assert after["route"] == "echo"  # the connection stays open


def test_a_route_without_route_response_answers_through_connections(runtime_stack: Stack) -> None:
    async def work() -> dict[str, Any]:
        async with connected(runtime_stack) as ws:
            posted = await echo(ws, json.dumps({"action": "post"}))
            with pytest.raises(TimeoutError):  # the function's return value is not sent
                await asyncio.wait_for(ws.recv(), 0.5)
            return posted

    assert run(work)["route"] == "post"


def test_invocations_of_one_connection_run_concurrently(runtime_stack: Stack) -> None:
    async def work() -> list[Any]:
        async with connected(runtime_stack) as ws:
            await ws.send(json.dumps({"action": "echo", "id": "slow", "sleep": 1}))
            await ws.send(json.dumps({"action": "echo", "id": "fast"}))
            return [(await receive_json(ws))["id"] for _ in range(2)]

    assert run(work) == ["fast", "slow"]


def test_frames_up_to_32_kb_and_messages_up_to_128_kb_pass(runtime_stack: Stack) -> None:
    async def work() -> tuple[dict[str, Any], dict[str, Any]]:
        async with connected(runtime_stack) as ws:
            one_frame = await echo(ws, "a" * 32 * 1024)
            fragments = await echo(ws, ["b" * 32 * 1024] * 4)
            return one_frame, fragments

    one_frame, fragments = run(work)
    assert len(one_frame["event"]["body"]) == 32 * 1024
    assert len(fragments["event"]["body"]) == 128 * 1024


@pytest.mark.parametrize(
    "message",
    [["a" * (32 * 1024 + 1)], ["b" * 32 * 1024] * 4 + ["c"]],
    ids=["frame-over-32-kb", "message-over-128-kb"],
)
def test_bigger_frames_or_messages_close_the_connection_with_1009(
    runtime_stack: Stack, message: list[str]
) -> None:
    async def work() -> None:
        async with connected(runtime_stack) as ws:
            await ws.send(message if len(message) > 1 else message[0])
            await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT_S)

    with pytest.raises(ConnectionClosed) as closed:
        run(work)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1009, "Message too big")


def test_connections_api_posts_describes_deletes_and_answers_gone(
    runtime_stack: Stack, results: Results
) -> None:
    api = management(runtime_stack)

    async def work() -> str:
        async with connected(runtime_stack) as ws:
            reply = await echo(ws, json.dumps({"action": "echo"}))
            connection_id: str = reply["event"]["requestContext"]["connectionId"]
            await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=b"hi")
            assert await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT_S) == "hi"
            description = await asyncio.to_thread(api.get_connection, ConnectionId=connection_id)
            assert description["Identity"]["SourceIp"] == "127.0.0.1"
            assert description["ConnectedAt"] <= description["LastActiveAt"]
        return connection_id

    closed_id = run(work)
    disconnect = results.wait_for(f"disconnect/{closed_id}")["event"]["requestContext"]
    assert (disconnect["eventType"], disconnect["routeKey"]) == ("DISCONNECT", "$disconnect")
    assert disconnect["disconnectStatusCode"] == 1000
    assert disconnect["authorizer"]["userId"] == "user-1"
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId=closed_id, Data=b"too late")
    with pytest.raises(api.exceptions.GoneException):
        api.get_connection(ConnectionId=closed_id)

    async def too_long() -> None:
        async with connected(runtime_stack) as ws:
            reply = await echo(ws, json.dumps({"action": "echo"}))
            connection_id = reply["event"]["requestContext"]["connectionId"]
            with pytest.raises(api.exceptions.PayloadTooLargeException):
                await asyncio.to_thread(
                    api.post_to_connection, ConnectionId=connection_id, Data=b"x" * 200_000
                )

    run(too_long)

    async def deleted() -> None:
        async with connected(runtime_stack) as ws:
            reply = await echo(ws, json.dumps({"action": "echo"}))
            connection_id = reply["event"]["requestContext"]["connectionId"]
            await asyncio.to_thread(api.delete_connection, ConnectionId=connection_id)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT_S)
            with pytest.raises(api.exceptions.GoneException):
                await asyncio.to_thread(
                    api.post_to_connection, ConnectionId=connection_id, Data=b"x"
                )

    run(deleted)


def test_connections_api_needs_a_signature_and_the_stage(runtime_stack: Stack) -> None:
    base = runtime_stack.ws_url.replace("ws://", "http://")
    unsigned = requests.post(f"{base}/test/@connections/abc", data=b"x", timeout=5)
    assert (unsigned.status_code, unsigned.json()) == (
        403,
        {"message": "Missing Authentication Token"},
    )
    signed = {"Authorization": "AWS4-HMAC-SHA256 anything"}
    other_stage = requests.post(f"{base}/prod/@connections/abc", headers=signed, timeout=5)
    assert other_stage.status_code == 403
    unknown = requests.post(f"{base}/test/@connections/abc", headers=signed, timeout=5)
    assert unknown.status_code == 410
    assert unknown.headers["x-amzn-ErrorType"] == "GoneException"
    assert requests.get(f"{base}/elsewhere", timeout=5).status_code == 403


def test_parleys_connections_api_gets_the_answers_boto3_gets(
    runtime_stack: Stack, results: Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parley's own @connections client (parley.adapters.connections), not boto3's."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    api = ConnectionsApi(runtime_stack.ws_url.replace("ws://", "http://") + "/test", "us-east-1")

    async def work() -> str:
        async with connected(runtime_stack) as ws:
            reply = await echo(ws, json.dumps({"action": "echo"}))
            connection_id: str = reply["event"]["requestContext"]["connectionId"]
            assert await asyncio.to_thread(api.post, connection_id, b"hi") is True
            assert await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT_S) == "hi"
            with pytest.raises(ConnectionsApiError) as too_long:
                await asyncio.to_thread(api.post, connection_id, b"x" * 200_000)
            assert (too_long.value.status, too_long.value.error_type) == (
                413,
                "PayloadTooLargeException",
            )
        return connection_id

    closed_id = run(work)
    results.wait_for(f"disconnect/{closed_id}")
    assert api.post(closed_id, b"too late") is False


# ------------------------------------------------------- time limits, on a bare gateway


@asynccontextmanager
async def bare_gateway(
    idle_timeout_s: float = IDLE_TIMEOUT_S,
    max_connection_s: float = MAX_CONNECTION_S,
    routes: Mapping[str, WsRoute] | None = None,
    pools: Mapping[str, Any] | None = None,
) -> AsyncIterator[str]:
    """A WebSocket API on a gateway of its own, without routes unless given (connections
    open, messages get `Forbidden`); `pools` stand in for the routes' functions."""
    api = WebSocketApi("Api", "abc123", "dev", ("action",), routes or {})
    gateway = WebSocketGateway(api, pools or {}, idle_timeout_s, max_connection_s)
    runner = web.AppRunner(gateway.application(), shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"ws://127.0.0.1:{port}/dev"
    finally:
        await gateway.close_all()
        await runner.cleanup()


def test_idle_connections_are_closed() -> None:
    async def work() -> tuple[float, Any]:
        async with bare_gateway(idle_timeout_s=0.5, max_connection_s=60) as url:
            ws = await connect(url, proxy=None, ping_interval=None)
            started = time.monotonic()
            reply = await echo(ws, "anything")  # no route: API Gateway answers Forbidden
            assert reply["message"] == "Forbidden"
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            return time.monotonic() - started, closed.value.rcvd

    elapsed, close = run(work)
    assert 0.4 < elapsed < 3
    assert close.code == 1001


async def keep_busy(ws: ClientConnection) -> None:
    while True:
        await echo(ws, "keep busy")
        await asyncio.sleep(0.1)


def test_connections_end_at_their_maximum_duration_even_when_busy() -> None:
    async def work() -> float:
        async with bare_gateway(idle_timeout_s=60, max_connection_s=1) as url:
            ws = await connect(url, proxy=None)
            started = time.monotonic()
            with pytest.raises(ConnectionClosed):
                await keep_busy(ws)
            return time.monotonic() - started

    assert 0.8 < run(work) < 3


class RecordingPool:
    """A function that records its events, and whose `$connect` takes `delay_s`."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.events: list[dict[str, Any]] = []
        self._delay_s = delay_s

    async def invoke(self, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        await asyncio.sleep(self._delay_s)
        return Invocation("r", payload={"statusCode": 200})


def test_a_client_that_leaves_during_connect_gets_its_disconnect(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """API Gateway runs `$disconnect` for a connection whose `$connect` ran, even when the
    client gave up waiting (websockets' open timeout) before the handshake completed."""
    routes = {
        "$connect": WsRoute("$connect", "Connect", returns_response=False),
        "$disconnect": WsRoute("$disconnect", "Disconnect", returns_response=False),
    }
    pools: dict[str, Any] = {"Connect": RecordingPool(delay_s=0.5), "Disconnect": RecordingPool()}

    async def work() -> None:
        async with bare_gateway(routes=routes, pools=pools) as url:
            with pytest.raises(TimeoutError):
                await connect(url, proxy=None, open_timeout=0.1)
            for _ in range(50):
                if pools["Disconnect"].events:
                    break
                await asyncio.sleep(0.05)

    run(work)
    (connected_event,) = pools["Connect"].events
    (disconnected,) = pools["Disconnect"].events
    connection_id = connected_event["requestContext"]["connectionId"]
    assert disconnected["requestContext"]["connectionId"] == connection_id
    assert disconnected["requestContext"]["eventType"] == "DISCONNECT"
    assert not [record for record in caplog.records if record.levelname == "ERROR"]
