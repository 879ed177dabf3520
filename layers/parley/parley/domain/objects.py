"""API.md's public objects as the domain returns them: frozen dataclasses, no pydantic.

The WebSocket functions send these (a message in an ack or an event) and must not pay
pydantic's import on a cold start (docs/decisions.md, 2026-11-28). The HTTP API's reply
models in `parley.edge.schemas` declare the same objects for validation and the OpenAPI document,
and read these by attribute (`from_attributes`); tests/unit/test_objects.py holds the two
to the same fields, defaults and JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ChannelType = Literal["public", "private", "dm", "group_dm"]
Role = Literal["admin", "member"]


@dataclass(frozen=True, slots=True)
class _Object:
    def wire(self) -> dict[str, Any]:
        """The object as JSON sends it."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class User(_Object):
    id: str
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Workspace(_Object):
    id: str
    name: str
    createdAt: str
    role: Role


@dataclass(frozen=True, slots=True)
class Channel(_Object):
    id: str
    workspaceId: str
    name: str
    type: ChannelType
    topic: str
    createdBy: str
    createdAt: str
    isMember: bool
    memberCount: int
    isArchived: bool = False


@dataclass(frozen=True, slots=True)
class Bookmark(_Object):
    id: str
    channelId: str
    title: str
    link: str
    createdBy: str
    emoji: str | None = None

    def wire(self) -> dict[str, Any]:
        """`emoji` is left out when the bookmark has none, as API.md marks it (`emoji?`)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True, slots=True)
class UserGroup(_Object):
    id: str
    handle: str
    name: str
    userIds: list[str]
    disabledAt: str | None = None
    disabledBy: str | None = None

    def wire(self) -> dict[str, Any]:
        """`disabledAt` and `disabledBy` only for a disabled group (`disabledAt?`)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True, slots=True)
class ScheduledMessage(_Object):
    id: str
    channelId: str
    text: str
    postAt: str
    threadTs: str | None = None


@dataclass(frozen=True, slots=True)
class Reminder(_Object):
    id: str
    text: str
    at: str  # a recurring one's next time
    channelId: str | None = None
    ts: str | None = None
    recurrence: dict[str, Any] | None = None  # Slack's {frequency, weekdays?}

    def wire(self) -> dict[str, Any]:
        """`recurrence` is left out of a one-time reminder (the rest as before: null)."""
        data = asdict(self)
        if data["recurrence"] is None:
            del data["recurrence"]
        return data


@dataclass(frozen=True, slots=True)
class Reaction(_Object):
    name: str
    count: int
    users: list[str]


@dataclass(frozen=True, slots=True)
class Edited(_Object):
    ts: str


@dataclass(frozen=True, slots=True)
class File(_Object):
    id: str
    workspaceId: str
    name: str
    size: int
    contentType: str
    status: Literal["pending", "ready"]
    uploadedBy: str
    createdAt: str


@dataclass(frozen=True, slots=True)
class UploadForm(_Object):
    """A presigned POST: send `fields` and then the file (as `file`) to `url` as form data."""

    url: str
    fields: dict[str, str]
    expiresAt: str


@dataclass(frozen=True, slots=True)
class Message(_Object):
    ts: str
    channelId: str
    userId: str
    text: str
    threadTs: str | None = None
    replyCount: int = 0
    latestReplyTs: str | None = None
    reactions: list[Reaction] = field(default_factory=list)
    edited: Edited | None = None
    files: list[File] | None = None
    blocks: list[dict[str, Any]] | None = None  # Block Kit; `text` is their fallback
    clientMsgId: str | None = None
    appId: str | None = None  # the app whose bot posted it
    subtype: str | None = None  # Slack's: "bot_message" (a webhook's), "thread_broadcast"

    def wire(self) -> dict[str, Any]:
        """Optional fields that are unset are left out, as API.md marks them (`threadTs?`)."""
        return {k: v for k, v in asdict(self).items() if v is not None}
