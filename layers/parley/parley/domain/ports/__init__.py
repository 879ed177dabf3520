"""The domain's ports: what it needs from the world, as protocols it defines.

- `Publisher` announces events to live connections (`parley.adapters.fanout.Broadcaster`).
- One repository per aggregate (`parley.domain.ports.messages`, `.channels`, ...), taking and
  returning the records of `parley.domain.records`. Each module exposes its repository as a
  module attribute `store` (`from parley.domain.ports.messages import store as message_store`) that
  forwards to the adapter bound to it.

`parley.wiring.configured()` binds the DynamoDB adapters (`parley.adapters.dynamodb.*`,
modules that implement these protocols structurally, which mypy checks there); a test may
bind fakes with `bind()`. Nothing here imports an adapter.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Delivery:
    """What one announcement reached."""

    delivered: int = 0
    pruned: list[str] = field(default_factory=list)
    failed: int = 0
    # Users with at least one live connection: posted to, or handed to the fan-out queue.
    reached: set[str] = field(default_factory=set)
    queued: int = 0  # connections handed to the fan-out queue (a large audience)


class Publisher(Protocol):
    def to_channel(
        self, workspace_id: str, channel_id: str, event: dict[str, Any], exclude: str | None = None
    ) -> Delivery: ...

    def to_channel_each(
        self, workspace_id: str, channel_id: str, events: list[dict[str, Any]]
    ) -> None: ...

    def to_users(
        self,
        workspace_id: str,
        user_ids: list[str],
        event: dict[str, Any],
        exclude: str | None = None,
    ) -> Delivery: ...

    def to_workspace(self, workspace_id: str, event: dict[str, Any]) -> object: ...

    def to_connections(
        self, workspace_id: str, targets: dict[str, str], event: dict[str, Any]
    ) -> Delivery: ...


_bound: dict[str, object] = {}
_modules: dict[str, str] = {}


class Unbound(RuntimeError):
    """A repository was used before the composition root bound an adapter to it."""


class _Port:
    """Stands for the adapter bound to one port: attribute reads go to that adapter."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        adapter = _bound.get(self._name)
        if adapter is None:
            module = _modules.get(self._name)
            if module is None:
                raise Unbound(
                    f"no adapter is bound to the {self._name} port (parley.wiring binds them)"
                )
            adapter = _bound[self._name] = importlib.import_module(module)
        return getattr(adapter, attribute)

    def __repr__(self) -> str:
        return f"<port {self._name}: {_bound.get(self._name)!r}>"


def port(name: str) -> Any:
    """The stand-in a ports module exposes, typed there as its repository protocol."""
    return _Port(name)


def bind(**adapters: object) -> None:
    """Binds adapters to ports by name (`bind(messages=parley.adapters.dynamodb.messages)`)."""
    _bound.update(adapters)


def bind_modules(modules: dict[str, str]) -> None:
    """Binds adapter modules to ports by name, each imported when its port is first used."""
    for name, module in modules.items():
        _bound.pop(name, None)
        _modules[name] = module


def bound(name: str) -> object | None:
    return _bound.get(name)
