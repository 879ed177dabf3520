"""The WebSocket actions' frames, checked by hand: no pydantic in the WebSocket functions.

pydantic's import and the schemas' model building were a third of these functions' cold
start (docs/decisions.md, 2026-11-28). A frame is a JSON object with a handful of flat
fields, so a few checks do the work, with the HTTP API's rules (`parley.limits`) and in
pydantic's words ("channelId: Field required"), so the `error` frames read as before.
Unknown fields are ignored, as in the HTTP bodies: clients may be newer than the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self

from parley.domain.blocks import shape_problem
from parley.errors import InvalidRequest
from parley.limits import (
    ID_PATTERN,
    LONE_SURROGATE,
    MAX_CLIENT_MSG_ID_CHARS,
    MAX_FILES_PER_MESSAGE,
    MAX_FRAME_ID_CHARS,
    MAX_PRESENCE_SUBSCRIPTIONS,
    TS_PATTERN,
    encodable,
)

_ID = re.compile(ID_PATTERN)
_TS = re.compile(TS_PATTERN)
_MAX_PROBLEMS = 5  # an error frame names the first five, as the HTTP API's 422 does
_REQUIRED = object()


class _Invalid(Exception):
    """One field's problem, in pydantic's words; `where` is the item's index in a list."""

    def __init__(self, message: str, where: int | None = None) -> None:
        super().__init__(message)
        self.message, self.where = message, where


class Fields:
    """A frame's fields, read one by one; each problem is noted, then `check` raises them all."""

    def __init__(self, body: dict[str, Any]) -> None:
        self._body = body
        self._problems: list[str] = []

    def _read(self, name: str, default: Any, read: Any) -> Any:
        value = self._body.get(name, _REQUIRED)
        if value is _REQUIRED:
            if default is _REQUIRED:
                self._problems.append(f"{name}: Field required")
            return None if default is _REQUIRED else default
        try:
            return read(value)
        except _Invalid as invalid:
            where = name if invalid.where is None else f"{name}.{invalid.where}"
            self._problems.append(f"{where}: {invalid.message}")
            return None

    def action(self, expected: str) -> None:
        """API Gateway routed the frame by its action; a direct call may not have."""

        def read(value: Any) -> None:
            if value != expected:
                raise _Invalid(f"Input should be {expected!r}")

        self._read("action", _REQUIRED, read)

    def string(
        self,
        name: str,
        *,
        default: Any = _REQUIRED,
        pattern: re.Pattern[str] | None = None,
        min_length: int = 0,
        max_length: int | None = None,
        nullable: bool = False,
    ) -> Any:
        def read(value: Any) -> str | None:
            if value is None and nullable:
                return None
            return _string(value, pattern, min_length, max_length)

        return self._read(name, default, read)

    def ids(self, name: str, *, max_items: int, default: Any = _REQUIRED) -> Any:
        """A list of ids (`ID_PATTERN`), at most `max_items`; null only where `default` is."""

        def read(value: Any) -> list[str] | None:
            if value is None and default is None:
                return None
            if not isinstance(value, list):
                raise _Invalid("Input should be a valid array")
            if len(value) > max_items:
                raise _Invalid(
                    f"List should have at most {max_items} items after validation, not {len(value)}"
                )
            for index, item in enumerate(value):
                try:
                    _string(item, _ID, 0, None)
                except _Invalid as invalid:
                    self._problems.append(f"{name}.{index}: {invalid.message}")
            return value

        return self._read(name, default, read)

    def blocks(self, name: str) -> Any:
        """Block Kit blocks or null, in the words of the HTTP API's 422 (parley.edge.schemas)."""

        def read(value: Any) -> list[dict[str, Any]] | None:
            problem = shape_problem(value)
            if problem is not None:
                raise _Invalid(f"Value error, {problem}")
            return value

        return self._read(name, None, read)

    def frame_id(self) -> str | int | None:
        """The client's `id` (echoed as `replyTo`): a string of at most 128 characters or an
        integer (pydantic also took `3.0` and `true` as integers; so does this)."""

        def read(value: Any) -> str | int | None:
            if value is None or isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str):
                return _string(value, None, 0, MAX_FRAME_ID_CHARS)
            raise _Invalid("Input should be a valid string or integer")

        value: str | int | None = self._read("id", None, read)
        return value

    def check(self) -> None:
        if self._problems:
            raise InvalidRequest("; ".join(self._problems[:_MAX_PROBLEMS]))


def _string(
    value: Any, pattern: re.Pattern[str] | None, min_length: int, max_length: int | None
) -> str:
    if not isinstance(value, str):
        raise _Invalid("Input should be a valid string")
    if pattern is not None and not pattern.match(value):
        raise _Invalid(f"String should match pattern '{pattern.pattern}'")
    if len(value) < min_length:
        plural = "" if min_length == 1 else "s"
        raise _Invalid(f"String should have at least {min_length} character{plural}")
    if max_length is not None and len(value) > max_length:
        raise _Invalid(f"String should have at most {max_length} characters")
    if not encodable(value):
        raise _Invalid(f"Value error, {LONE_SURROGATE}")
    return value


class Frame(Protocol):
    """A WebSocket action's frame, read from the JSON object the client sent."""

    action: ClassVar[str]

    @classmethod
    def read(cls, body: dict[str, Any]) -> Self: ...


@dataclass(frozen=True, slots=True)
class SendMessageFrame:
    """`{"action": "sendMessage", "id", "channelId", "text", "threadTs"?, "clientMsgId"?,
    "fileIds"?, "blocks"?}`: as the body of POST /channels/{cid}/messages
    (parley.edge.schemas.PostMessage)."""

    action: ClassVar[str] = "sendMessage"
    channelId: str
    # Empty text is the domain's 400 unless files are shared or blocks given; over 40,000
    # characters its 413 (and blocks over their size limit too).
    text: str = ""
    threadTs: str | None = None
    clientMsgId: str | None = None
    fileIds: list[str] | None = None
    blocks: list[dict[str, Any]] | None = None
    id: str | int | None = None

    @classmethod
    def read(cls, body: dict[str, Any]) -> Self:
        fields = Fields(body)
        fields.action(cls.action)
        frame = cls(
            channelId=fields.string("channelId", pattern=_ID),
            text=fields.string("text", default=""),
            threadTs=fields.string("threadTs", default=None, pattern=_TS, nullable=True),
            clientMsgId=fields.string(
                "clientMsgId",
                default=None,
                min_length=1,
                max_length=MAX_CLIENT_MSG_ID_CHARS,
                nullable=True,
            ),
            fileIds=fields.ids("fileIds", max_items=MAX_FILES_PER_MESSAGE, default=None),
            blocks=fields.blocks("blocks"),
            id=fields.frame_id(),
        )
        fields.check()
        return frame


@dataclass(frozen=True, slots=True)
class MarkReadFrame:
    """`{"action": "markRead", "channelId", "ts"}`: as POST /channels/{cid}/read."""

    action: ClassVar[str] = "markRead"
    channelId: str
    ts: str
    id: str | int | None = None

    @classmethod
    def read(cls, body: dict[str, Any]) -> Self:
        fields = Fields(body)
        fields.action(cls.action)
        frame = cls(
            channelId=fields.string("channelId", pattern=_ID),
            ts=fields.string("ts", pattern=_TS),
            id=fields.frame_id(),
        )
        fields.check()
        return frame


@dataclass(frozen=True, slots=True)
class TypingFrame:
    """`{"action": "typing", "channelId", "threadTs"?}`."""

    action: ClassVar[str] = "typing"
    channelId: str
    threadTs: str | None = None
    id: str | int | None = None

    @classmethod
    def read(cls, body: dict[str, Any]) -> Self:
        fields = Fields(body)
        fields.action(cls.action)
        frame = cls(
            channelId=fields.string("channelId", pattern=_ID),
            threadTs=fields.string("threadTs", default=None, pattern=_TS, nullable=True),
            id=fields.frame_id(),
        )
        fields.check()
        return frame


@dataclass(frozen=True, slots=True)
class SubscribePresenceFrame:
    """`{"action": "subscribePresence", "userIds"}`: at most 100 users, replacing the list."""

    action: ClassVar[str] = "subscribePresence"
    userIds: list[str]
    id: str | int | None = None

    @classmethod
    def read(cls, body: dict[str, Any]) -> Self:
        fields = Fields(body)
        fields.action(cls.action)
        frame = cls(
            userIds=fields.ids("userIds", max_items=MAX_PRESENCE_SUBSCRIPTIONS),
            id=fields.frame_id(),
        )
        fields.check()
        return frame
