"""The unit tier: no I/O. A test here that opens a socket, starts a process or reaches moto
fails at once; such a test belongs in tests/functional (see docs/architecture.md, Testing).

moto is refused where it is used, not where it is imported: `make test` runs every tier in
one session, so moto is loaded (and its session-wide mock may be active) by the time the
unit tests run.
"""

from __future__ import annotations

import socket
import subprocess
from typing import Any

import pytest


class IoInUnitTest(AssertionError):
    """A unit test tried to do I/O."""


def _refuse(what: str) -> Any:
    def refuse(*args: object, **kwargs: object) -> None:
        raise IoInUnitTest(f"{what} in a unit test: move the test to tests/functional")

    return refuse


@pytest.fixture(autouse=True)
def _no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse("a socket connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse("a socket connect"))
    monkeypatch.setattr(socket.socket, "bind", _refuse("a socket bind"))
    monkeypatch.setattr(socket, "getaddrinfo", _refuse("a DNS look-up"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("a subprocess"))
    _no_moto(monkeypatch)


def _no_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto is an AWS in process: starting it, serving it or sending it a request."""
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.core.models import MockAWS
    from moto.server import ThreadedMotoServer

    monkeypatch.setattr(MockAWS, "start", _refuse("moto (mock_aws)"))
    monkeypatch.setattr(ThreadedMotoServer, "start", _refuse("a moto server"))
    monkeypatch.setattr(BotocoreStubber, "__call__", _refuse("a request to moto"))
