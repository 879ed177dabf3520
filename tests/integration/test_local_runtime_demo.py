"""Parley itself on the local runtime: `python -m local up` seeds the demo workspace, and a
message that one demo user posts reaches the other's WebSocket."""

from __future__ import annotations

import asyncio
import gc
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from websockets.asyncio.client import connect

from local.stack import PROJECT_ROOT, Stack
from local.web import WEB_DIST

pytestmark = pytest.mark.integration


def test_the_stack_fixture_serves_parley(stack: Stack) -> None:
    tokens = stack.login("fixture-user")
    reply = requests.get(
        f"{stack.http_url}/me", headers={"authorization": f"Bearer {tokens.id_token}"}, timeout=30
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["user"]["email"] == "fixture-user@example.com"


def test_what_the_start_made_is_out_of_the_collectors_way(stack: Stack) -> None:
    """boto3's models and the rest of the start live as long as the stack; frozen, they no
    longer lengthen each full collection, which pauses the gateways' event loop."""
    assert gc.get_freeze_count() > 10_000


@dataclass(frozen=True)
class LocalUp:
    description: dict[str, Any]  # stack.json
    process: subprocess.Popen[bytes]
    output: Path  # a file, not a pipe: a pipe nobody reads could fill and stall the stack


@pytest.fixture(scope="module")
def local_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalUp]:
    """`python -m local up` on free ports."""
    state = tmp_path_factory.mktemp("up")
    ports = ["--http-port", "0", "--ws-port", "0", "--aws-port", "0", "--search-port", "0"]
    ports += ["--web-port", "0"]
    with (state / "output.log").open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "local", "up", "--state-dir", str(state), *ports],
            cwd=PROJECT_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    stack_file = state / "stack.json"
    # Search's JVM starts before stack.json is written: seconds on a quiet machine, far more
    # on a busy one.
    deadline = time.monotonic() + 180
    while not stack_file.exists():
        assert process.poll() is None, (state / "output.log").read_text()
        assert time.monotonic() < deadline, "python -m local up did not write stack.json"
        time.sleep(0.2)
    yield LocalUp(json.loads(stack_file.read_text()), process, state / "output.log")
    if process.poll() is None:
        process.kill()
        process.wait()


def log_in(description: dict[str, Any], user: str) -> str:
    cognito = description["cognito"]
    client = boto3.client(
        "cognito-idp",
        endpoint_url=cognito["endpoint"],
        region_name=description["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    reply = client.initiate_auth(
        ClientId=cognito["clientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": description["demo"]["password"]},
    )
    token: str = reply["AuthenticationResult"]["IdToken"]
    return token


def test_up_writes_stack_json_as_the_api_describes(local_up: LocalUp) -> None:
    description = local_up.description
    # webUrl where the web client is built (`make web`, which `make up` and `make test` run).
    built = (WEB_DIST / "app.js").is_file()
    assert set(description) == {"region", "httpUrl", "wsUrl", "cognito", "demo"} | (
        {"webUrl"} if built else set()
    )
    assert description["region"] == "us-east-1"
    assert description["httpUrl"].startswith("http://127.0.0.1:")
    assert description["wsUrl"].startswith("ws://127.0.0.1:")
    assert set(description["cognito"]) == {"endpoint", "userPoolId", "clientId"}
    assert set(description["demo"]) == {"password", "users", "workspaceId"}
    if built:
        config = requests.get(f"{description['webUrl']}/config.json", timeout=10).json()
        assert config["httpUrl"] == description["httpUrl"]
        assert config["wsUrl"] == description["wsUrl"]
        assert config["cognito"] == description["cognito"]
        page = requests.get(description["webUrl"], timeout=10)
        assert page.status_code == 200
        assert '<label for="username">Username</label>' in page.text
    assert description["demo"]["users"] == ["alice", "bob"]


def test_a_message_from_bob_reaches_alices_websocket(local_up: LocalUp) -> None:
    description = local_up.description
    http, workspace = description["httpUrl"], description["demo"]["workspaceId"]
    alice, bob = log_in(description, "alice"), log_in(description, "bob")
    bob_headers = {"authorization": f"Bearer {bob}"}
    channels = requests.get(
        f"{http}/workspaces/{workspace}/channels", headers=bob_headers, timeout=30
    )
    general = next(c for c in channels.json()["channels"] if c["name"] == "general")

    async def work() -> dict[str, Any]:
        url = f"{description['wsUrl']}?token={alice}&workspaceId={workspace}"
        async with connect(url, proxy=None) as ws:
            posted = await asyncio.to_thread(
                requests.post,
                f"{http}/channels/{general['id']}/messages",
                json={"text": "hello alice"},
                headers=bob_headers,
                timeout=30,
            )
            assert posted.status_code == 201, posted.text
            event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return event

    event = asyncio.run(work())
    assert event["type"] == "message"
    assert event["channelId"] == general["id"]
    assert event["message"]["text"] == "hello alice"


def test_ctrl_c_stops_up_cleanly(local_up: LocalUp) -> None:
    local_up.process.send_signal(signal.SIGINT)
    assert local_up.process.wait(timeout=30) == 0
    output = local_up.output.read_text()
    assert "Traceback" not in output
    assert "demo logins    alice, bob" in output
    assert output.rstrip().endswith("stopped")
    assert not (local_up.output.parent / "stack.json").exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(local_up.description["httpUrl"], timeout=2)
