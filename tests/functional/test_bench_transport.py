"""bench/transport.py: the variants it compares make the same requests (so that the CPU they
take compares wires, not requests), and a tiny run writes latest.json's keys."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.auth
import pytest

from bench import transport
from tests.scripted_http import ScriptedServer

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.datetime(2026, 12, 3, 11, 39, 12, tzinfo=datetime.UTC)
BOOKKEEPING = {"user-agent", "amz-sdk-invocation-id", "amz-sdk-request"}  # not signed


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    """A recording stand-in; botocore signs at NOW, as the hand-written client below does."""
    for name, value in transport.CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    with ScriptedServer(default_body=b"{}").running() as running:
        yield running


def received(server: ScriptedServer) -> list[tuple[str, dict[str, str], bytes]]:
    return [
        (seen.path, {k: v for k, v in seen.headers.items() if k not in BOOKKEEPING}, seen.body)
        for seen in server.seen
    ]


@pytest.mark.parametrize("operation", transport.OPERATIONS)
def test_every_dynamodb_variant_sends_the_same_signed_request(
    server: ScriptedServer, operation: str
) -> None:
    for variant in transport.VARIANTS["dynamodb"]:
        client = transport.dynamodb_client(variant, server.origin)
        if variant == "handWritten":
            client._clock = NOW.timestamp
        client._make_api_call(operation, transport.REQUESTS[operation])
    hand_written, alternative, botocores = received(server)
    assert alternative == hand_written
    assert botocores == hand_written


def test_every_connections_variant_sends_the_same_signed_post(server: ScriptedServer) -> None:
    for variant in transport.VARIANTS["connections"]:
        poster = transport.connections_client(variant, server.origin)
        if variant == "handWritten":
            poster._clock = NOW.timestamp
        assert poster.post(transport.CONNECTION_ID, transport.FRAME) is True
    hand_written, alternative, boto3s = received(server)
    assert hand_written[0] == f"/dev/@connections/{transport.CONNECTION_ID.replace('=', '%3D')}"
    assert alternative == hand_written
    assert boto3s == hand_written


def test_the_wires_are_counted_by_their_definitions() -> None:
    counted = transport.lines(transport.WIRES["handWritten"])
    assert len(counted["definitions"]) == 7
    assert 0 < counted["codeLines"] < counted["lines"]
    assert transport._code_lines('"""doc"""\n\n# comment\nx = (\n    1\n)\n') == {4, 5, 6}


def test_a_tiny_run_writes_its_keys(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    finished = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench", "--tiny", "--only", "transport", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "| DynamoDB GetItem |" in finished.stdout
    result: dict[str, Any] = json.loads(out.read_text())["transport"]
    assert set(result["cpuPerRequest"]) == {*transport.OPERATIONS, "post"}
    for kind, variants in result["cpuPerRequest"].items():
        family = "connections" if kind == "post" else "dynamodb"
        assert list(variants) == list(transport.VARIANTS[family])
        assert variants["handWritten"]["ratio"] == 1.0
        assert all(figures["ms"] > 0 for figures in variants.values())
    for family, variants in result["firstCall"].items():
        assert list(variants) == list(transport.VARIANTS[family])
        assert all(figures["cpuMs"] > 0 for figures in variants.values())
    assert set(result["signing"]) == {"handWritten", "urllib3"}
    assert set(result["lines"]) == {"handWritten", "urllib3", "sharedProtocol"}
