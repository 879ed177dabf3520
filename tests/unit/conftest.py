"""The unit tier: no I/O. A test here that opens a socket, starts a process or reaches moto
fails at once; such a test belongs in tests/functional (see docs/architecture.md, Testing)."""

from __future__ import annotations

import importlib.abc
import socket
import subprocess
import sys
from typing import Any

import pytest


class IoInUnitTest(AssertionError):
    """A unit test tried to do I/O."""


class _NoMoto(importlib.abc.MetaPathFinder):
    """moto is an AWS in process: a test that needs it is a functional test."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "moto" or name.startswith("moto."):
            raise IoInUnitTest(f"import {name} in a unit test: move the test to tests/functional")


sys.meta_path.insert(0, _NoMoto())


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
