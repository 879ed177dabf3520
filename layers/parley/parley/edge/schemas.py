"""The public objects and request bodies of API.md, as pydantic models (the HTTP API's).

Field names are the wire names (camelCase) so that a model reads like the contract.
Unknown request fields are ignored: clients may be newer than the server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_serializer,
)

from parley.domain.blocks import shape_problem
from parley.domain.objects import ChannelType, Role
from parley.limits import (
    ID_PATTERN,
    LONE_SURROGATE,
    MAX_BLOCKS,
    MAX_CLIENT_MSG_ID_CHARS,
    MAX_FILES_PER_MESSAGE,
    TS_PATTERN,
    encodable,
)
from parley.slack.events import (
    LEGACY_SUBSCRIPTIONS,
    SUBSCRIPTIONS,
    LegacySubscriptionName,
    SubscriptionName,
)
from parley.slack.scopes import Scope

CHANNEL_NAME_PATTERN = r"^[a-z0-9_-]{1,80}$"
# RFC 6838's restricted names: `type/subtype`, no parameters (the object's Content-Type must
# equal it exactly, and the upload policy pins it).
_MIME_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
CONTENT_TYPE_PATTERN = rf"^{_MIME_NAME}/{_MIME_NAME}$"

Ts = Annotated[str, StringConstraints(pattern=TS_PATTERN)]
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ChannelName = Annotated[str, StringConstraints(pattern=CHANNEL_NAME_PATTERN)]
# What a bot token may do: Slack's scope names (parley.slack.scopes).
AppScope = Scope
# What an app may subscribe to (Events API): Slack's bot events, and the names of apps made
# before them (parley.slack.events).
AppEventType = Literal[SubscriptionName, LegacySubscriptionName]
APP_EVENT_TYPES = len(set(SUBSCRIPTIONS) | set(LEGACY_SUBSCRIPTIONS))
CommandName = Annotated[str, StringConstraints(pattern=r"^/[a-z0-9_-]{1,32}$")]
RequestUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2000)]


def _shaped_blocks(value: Any) -> Any:
    problem = shape_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# Block Kit blocks, passed through as JSON objects (parley.domain.blocks says what is checked).
_BLOCKS_SCHEMA = {
    "type": "array",
    "maxItems": MAX_BLOCKS,
    "items": {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string", "pattern": r"\S"}},
        "additionalProperties": True,
    },
}
_BLOCKS_DOC = "Block Kit blocks (Slack's layout); `text` is their fallback"
BlockList = Annotated[list[dict[str, Any]], WithJsonSchema(_BLOCKS_SCHEMA)]
# In a body: the shape is the edge's 422, the size the domain's 413 (as for text).
Blocks = Annotated[
    BlockList | None, BeforeValidator(_shaped_blocks), Field(description=_BLOCKS_DOC)
]


# defer_build: a model's validator and serializer are built on its first use, not at import:
# the HTTP API's function imports every model and a request uses one or two. Its import fell
# from 399 to 374 ms (medians of seven interleaved runs, 2026-12-03).


class _Out(BaseModel):
    # The domain returns the objects as parley.domain.objects' dataclasses: replies read them by
    # attribute.
    model_config = ConfigDict(extra="forbid", from_attributes=True, defer_build=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False, defer_build=True)

    @field_validator("*", mode="after")
    @classmethod
    def _encodable(cls, value: Any) -> Any:
        """No lone surrogate in any text (see parley.limits)."""
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and not encodable(text):
                raise ValueError(LONE_SURROGATE)
        return value


# ------------------------------------------------------------------ objects
# As parley.domain.objects, which the domain returns; these validate and document the replies.


class User(_Out):
    id: str
    name: str
    email: str


class Workspace(_Out):
    id: str
    name: str
    createdAt: str
    role: Role


class Channel(_Out):
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


class Bookmark(_Out):
    id: str
    channelId: str
    title: str
    link: str
    createdBy: str
    emoji: str | None = None

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """`emoji` is left out when the bookmark has none, as API.md marks it (`emoji?`)."""
        return {k: v for k, v in handler(self).items() if v is not None}


class UserGroup(_Out):
    id: str
    handle: str
    name: str
    userIds: list[str]
    # Only for a disabled group (`disabledAt?`, `disabledBy?`).
    disabledAt: str | None = Field(default=None, exclude_if=lambda at: at is None)
    disabledBy: str | None = Field(default=None, exclude_if=lambda by: by is None)


class ScheduledMessage(_Out):
    id: str
    channelId: str
    text: str
    postAt: str
    threadTs: str | None = None


class Reminder(_Out):
    id: str
    text: str
    at: str  # a recurring one's next time
    channelId: str | None = None
    ts: str | None = None
    recurrence: dict[str, Any] | None = None  # Slack's {frequency, weekdays?}

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """`recurrence` is left out of a one-time reminder (the rest as before: null)."""
        data: dict[str, Any] = handler(self)
        if data.get("recurrence") is None:
            data.pop("recurrence", None)
        return data


class Reaction(_Out):
    name: str
    count: int
    users: list[str]


class Edited(_Out):
    ts: str


class File(_Out):
    id: str
    workspaceId: str
    name: str
    size: int
    contentType: str
    status: Literal["pending", "ready"]
    uploadedBy: str
    createdAt: str


class Message(_Out):
    ts: str
    channelId: str
    userId: str
    text: str
    threadTs: str | None = None
    replyCount: int = 0
    latestReplyTs: str | None = None
    reactions: list[Reaction] = Field(default_factory=list)
    edited: Edited | None = None
    files: list[File] | None = None
    blocks: Annotated[BlockList | None, Field(description=_BLOCKS_DOC)] = None
    clientMsgId: str | None = None
    appId: str | None = None
    subtype: str | None = None

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Optional fields that are unset are left out, as API.md marks them (`threadTs?`)."""
        return {k: v for k, v in handler(self).items() if v is not None}


class WorkspaceMember(_Out):
    user: User
    role: Role
    isBot: bool = False


class Invite(_Out):
    code: str
    expiresAt: str


class UploadForm(_Out):
    """A presigned POST: send `fields` and then the file (as `file`) to `url` as form data."""

    url: str
    fields: dict[str, str]
    expiresAt: str


class App(_Out):
    id: str
    workspaceId: str
    name: str
    scopes: list[AppScope]
    eventsUrl: str | None
    commands: list[str]
    commandUrl: str | None  # where the app's slash commands are POSTed
    botUserId: str
    hasToken: bool  # false after the token was revoked (rotate to get a new one)
    events: list[AppEventType]
    eventsPaused: bool  # deliveries kept failing; resumed by POST /apps/{appId}/events/resume
    createdBy: str
    createdAt: str


class Webhook(_Out):
    id: str
    channelId: str
    appId: str
    createdBy: str
    createdAt: str


# ------------------------------------------------------------------ request bodies


class CreateWorkspace(_In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class CreateChannel(_In):
    name: ChannelName
    private: bool = False
    topic: Annotated[str, StringConstraints(max_length=250)] = ""


class UpdateChannel(_In):
    name: ChannelName | None = None
    topic: Annotated[str, StringConstraints(max_length=250)] | None = None


class OpenDirectMessage(_In):
    userIds: Annotated[list[Id], Field(min_length=1, max_length=8)]


class EditMessage(_In):
    # Blocks absent or null stay as they are, [] removes them (as Slack's chat.update).
    text: str
    blocks: Blocks = None


class AddMembers(_In):
    userIds: Annotated[list[Id], Field(min_length=1, max_length=100)]


class CreateApp(_In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    scopes: Annotated[list[AppScope], Field(min_length=1, max_length=32)]
    eventsUrl: RequestUrl | None = None
    commands: Annotated[list[CommandName], Field(max_length=25)] = Field(default_factory=list)
    commandUrl: RequestUrl | None = None
    events: Annotated[list[AppEventType], Field(max_length=APP_EVENT_TYPES)] = Field(
        default_factory=list
    )


class UpdateApp(_In):
    """The fields present are changed; `eventsUrl` or `commandUrl` null removes the URL."""

    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)] | None
    ) = None
    eventsUrl: RequestUrl | None = None
    commands: Annotated[list[CommandName], Field(max_length=25)] | None = None
    commandUrl: RequestUrl | None = None
    events: Annotated[list[AppEventType], Field(max_length=APP_EVENT_TYPES)] | None = None


class SlackMessagePayload(_In):
    """A message as Slack's incoming webhooks take it: `text` (the fallback when `blocks`
    are given), `blocks`, `thread_ts`. Slack's cosmetic fields (`username`, `icon_emoji`,
    `icon_url`, `mrkdwn`, `unfurl_links`, ...) are ignored; legacy `attachments` only lend
    their plain-text `fallback` to a payload without text or blocks."""

    text: str = ""
    blocks: Blocks = None
    thread_ts: Ts | None = None
    attachments: list[dict[str, Any]] | None = None

    def fallback_text(self) -> str:
        """`text`, or else the attachments' summaries for clients that show no formatting
        (Parley's), as Slack's own clients show a text-less attachment in notifications."""
        if self.text or not self.attachments:
            return self.text
        summaries = (a.get("fallback") or a.get("text") for a in self.attachments)
        return "\n".join(s for s in summaries if isinstance(s, str) and s)

    def draft(self, thread_ts: str | None = None) -> PostMessage:
        """The message to post, in `thread_ts` unless the payload names its own thread."""
        return PostMessage(
            text=self.fallback_text(), threadTs=self.thread_ts or thread_ts, blocks=self.blocks
        )


class CommandResponse(SlackMessagePayload):
    """What an app answers a slash command with, and POSTs to its response_url: Slack's
    shape. `ephemeral` (the default) is shown to the invoker alone, `in_channel` posted as
    the app's bot; `replace_original` replaces the command's last answer, and
    `delete_original` deletes it."""

    response_type: Literal["ephemeral", "in_channel"] | None = None
    replace_original: bool = False
    delete_original: bool = False


UserGroupHandle = Annotated[str, StringConstraints(pattern=r"^[a-z0-9._-]{1,80}$")]
UserGroupName = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class CreateUserGroup(_In):
    handle: UserGroupHandle
    name: UserGroupName
    userIds: Annotated[list[Id], Field(max_length=1000)] = []


class UpdateUserGroup(_In):
    handle: UserGroupHandle | None = None
    name: UserGroupName | None = None
    userIds: Annotated[list[Id], Field(max_length=1000)] | None = None
    disabled: bool | None = None


class ScheduleMessage(_In):
    # Length beyond MAX_TEXT_CHARS is the domain's 413; the time window is the domain's 400.
    text: str
    postAt: datetime  # an offset-less time is UTC
    threadTs: Ts | None = None


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ReminderRecurrence(_In):
    """Slack's: weekly needs its `weekdays`; the others repeat on `at`'s day (and time)."""

    frequency: Literal["daily", "weekly", "monthly", "yearly"]
    weekdays: list[Weekday] | None = None


class CreateReminder(_In):
    text: str
    at: datetime  # an offset-less time is UTC; a recurring one's first time
    channelId: Id | None = None
    ts: Ts | None = None
    recurrence: ReminderRecurrence | None = None


class CreateWebhook(_In):
    # The app the hook posts as (None is the domain's 400 naming the field, as before).
    appId: Id | None = None


class PostMessage(_In):
    # Length beyond MAX_TEXT_CHARS is the domain's 413, not a 422, hence no max_length here.
    # Text may be empty when the message shares files or has blocks, as in Slack.
    text: str = ""
    threadTs: Ts | None = None
    clientMsgId: (
        Annotated[str, StringConstraints(min_length=1, max_length=MAX_CLIENT_MSG_ID_CHARS)] | None
    ) = None
    fileIds: Annotated[list[Id], Field(max_length=MAX_FILES_PER_MESSAGE)] | None = None
    blocks: Blocks = None


class CreateFileUpload(_In):
    # The size limit is the deployment's (MaxUploadBytes), checked by the domain as a 413.
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    size: Annotated[int, Field(ge=1)]
    contentType: Annotated[str, StringConstraints(pattern=CONTENT_TYPE_PATTERN)]
    channelId: Id | None = None


# ------------------------------------------------------------------ HTTP replies


class Page(_Out):
    nextCursor: str | None = None


class UserReply(_Out):
    user: User


class WorkspaceReply(_Out):
    workspace: Workspace


class WorkspacesReply(_Out):
    workspaces: list[Workspace]


class InviteReply(_Out):
    invite: Invite


class WorkspaceMembersReply(Page):
    members: list[WorkspaceMember]


class ChannelReply(_Out):
    channel: Channel


class UserGroupReply(_Out):
    usergroup: UserGroup


class UserGroupsReply(_Out):
    usergroups: list[UserGroup]


class ScheduledReply(_Out):
    scheduled: ScheduledMessage


class ScheduledListReply(Page):
    scheduled: list[ScheduledMessage]


class ReminderReply(_Out):
    reminder: Reminder


class RemindersReply(Page):
    reminders: list[Reminder]


class ChannelsReply(Page):
    channels: list[Channel]


class UsersReply(Page):
    members: list[User]


class MessageReply(_Out):
    message: Message


class MessagesReply(Page):
    messages: list[Message]


class FileUploadReply(_Out):
    file: File
    upload: UploadForm


class FileReply(_Out):
    file: File


class FileDownloadReply(_Out):
    file: File
    downloadUrl: str


class AppCreated(_Out):
    """The only reply that carries the bot token and the signing secret."""

    app: App
    botToken: str
    signingSecret: str


class AppReply(_Out):
    app: App


class AppsReply(_Out):
    apps: list[App]


class BotTokenReply(_Out):
    """A rotated token, shown this once."""

    botToken: str


class WebhookCreated(_Out):
    """The only reply that carries the hook's URL (its token)."""

    webhook: Webhook
    url: str


class WebhooksReply(_Out):
    webhooks: list[Webhook]


class CommandResult(_Out):
    """What became of a slash command sent as a message (nothing of it is posted as the
    sender's): the app's reply shown to the sender alone (`ephemeral`), posted in the
    channel as the app's bot (`in_channel`, with `message`), nothing (`none`: the app
    acknowledged without text), or an error (`ok` false, `error` a short code, `replyText` the
    notice shown to the sender)."""

    command: str
    text: str
    appId: str | None
    ok: bool
    responseType: Literal["ephemeral", "in_channel", "none"]
    replyText: str | None = None
    replyBlocks: BlockList | None = None  # an ephemeral answer's Block Kit blocks
    message: Message | None = None
    error: str | None = None


class CommandReply(_Out):
    command: CommandResult


class CommandResponseReply(_Out):
    """What a response_url answers, as Slack's: `{"ok": true}`, or `ok` false with Slack's
    `error` (`expired_url`, `used_url`, `no_text`, `invalid_blocks`, ...)."""

    ok: bool
    error: str | None = Field(default=None, exclude_if=lambda error: error is None)


class ChannelUnread(_Out):
    channelId: str
    lastReadTs: str | None
    unreadCount: int
    mentionCount: int


class ThreadUnread(_Out):
    channelId: str
    threadTs: str
    unreadReplies: int


class Unreads(_Out):
    channels: list[ChannelUnread]
    threads: list[ThreadUnread]


class MarkRead(_In):
    ts: Ts


class PresenceReply(_Out):
    presence: dict[str, Literal["active", "away"]]


class SetPresence(_In):
    status: Literal["auto", "away"]


# ------------------------------------------------------------------ team features

# A bookmark's link is checked by the domain (http and https only, a 400 otherwise).
BookmarkTitle = Annotated[str, StringConstraints(min_length=1, max_length=255)]
BookmarkEmoji = Annotated[str, StringConstraints(max_length=100)]


class CreateBookmark(_In):
    title: BookmarkTitle
    link: str
    emoji: BookmarkEmoji | None = None


class UpdateBookmark(_In):
    """The fields present change; `emoji` null removes it."""

    title: BookmarkTitle | None = None
    link: str | None = None
    emoji: BookmarkEmoji | None = None


class BookmarkReply(_Out):
    bookmark: Bookmark


class BookmarksReply(_Out):
    bookmarks: list[Bookmark]


class SetNotificationLevel(_In):
    level: Literal["all", "mentions", "none"]


class SetRetention(_In):
    """`days`: how long messages are kept (1-3650); null keeps them forever."""

    days: Annotated[int | None, Field(ge=1, le=3650)]


class SetDoNotDisturb(_In):
    """`until`: ISO 8601 (UTC when it names no zone); null ends do not disturb."""

    until: datetime | None


class ErrorBody(_Out):
    code: str
    message: str


class ErrorReply(_Out):
    error: ErrorBody


# ------------------------------------------------------------------ notifications


class Notification(_Out):
    id: str
    # A reminder's, when it comes due; a scheduled message's that could not be posted (its
    # author had left the channel), to its author.
    type: Literal["mention", "dm", "reminder", "scheduled_dropped"]
    channelId: str | None  # a reminder about no message has none
    ts: str
    userId: str
    createdAt: str
    text: Annotated[
        str | None, Field(description="A reminder's or a dropped scheduled message's text.")
    ] = None


class PushedMessage(_Out):
    """What is pushed (SNS) for a message that mentions no one, to a member whose
    notification level for its channel is "all"; never stored or listed."""

    id: str
    type: Literal["message"]
    channelId: str
    ts: str
    userId: str
    createdAt: str


class NotificationsReply(Page):
    notifications: list[Notification]


# ------------------------------------------------------------------ Slack imports


class CreateImport(_In):
    # The size limit is the deployment's (MaxImportBytes), checked by the domain as a 413.
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    size: Annotated[int, Field(ge=1)]


class ImportCounts(_Out):
    users: int = 0
    channels: int = 0
    messages: int = Field(default=0, description="top-level messages")
    replies: int = 0
    reactions: int = Field(default=0, description="reactions, one per user who reacted")
    files: int = Field(default=0, description="files noted (an export holds no file content)")
    invalid: int = Field(default=0, description="messages that could not be imported")


class ImportChunks(_Out):
    """The import's day files: `total` once planned (null before), `done` as they finish."""

    total: int | None = None
    done: int = 0


class Import(_Out):
    id: str
    workspaceId: str
    name: str
    status: Literal["pending", "running", "done", "failed"]
    createdBy: str
    createdAt: str
    counts: ImportCounts
    chunks: ImportChunks
    errors: list[str] = Field(description="the first errors (at most 20), the reason last")
    reason: str | None = Field(default=None, description="why a failed import failed")


_IMPORT_REPLY = ConfigDict(
    extra="forbid", from_attributes=True, defer_build=True, populate_by_name=True
)


class ImportReply(_Out):
    model_config = _IMPORT_REPLY

    import_: Import = Field(alias="import")


class ImportUploadReply(_Out):
    model_config = _IMPORT_REPLY

    import_: Import = Field(alias="import")
    upload: UploadForm
