"""What the table keeps, as the domain reads and writes it: plain frozen dataclasses.

Field names are the stored attributes' (camelCase, as in docs/data-model.md), so a record
reads like the item it comes from; keys, indexes and TTLs are the adapters' business and
appear nowhere here. The repositories in `parley.domain.ports` take and return these; the
public objects of API.md (`parley.domain.objects`) are made from them in
`parley.domain.views`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UserRecord:
    userId: str
    name: str
    email: str
    createdAt: str


@dataclass(frozen=True, slots=True)
class WorkspaceRecord:
    workspaceId: str
    name: str
    createdBy: str
    createdAt: str
    generalChannelId: str


@dataclass(frozen=True, slots=True)
class WorkspaceMemberRecord:
    workspaceId: str
    userId: str
    role: str  # "admin" or "member"
    joinedAt: str
    isBot: bool = False


@dataclass(frozen=True, slots=True)
class InviteRecord:
    code: str
    workspaceId: str
    createdBy: str
    createdAt: str
    expiresAt: str


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    channelId: str
    workspaceId: str
    name: str
    type: str  # "public", "private", "dm" or "group_dm"
    createdBy: str
    createdAt: str
    topic: str = ""
    memberCount: int = 0
    isArchived: bool = False
    # How many members chose the notification level "all" (parley.domain.preferences): a
    # message that mentions nobody is read for pushes only while some member did.
    notifyAllCount: int = 0


@dataclass(frozen=True, slots=True)
class ChannelMemberRecord:
    channelId: str
    workspaceId: str
    userId: str
    joinedAt: str
    lastReadTs: str | None = None
    notifyLevel: str | None = None  # "all", "mentions" or "none"; None is the default


@dataclass(frozen=True, slots=True)
class ReactionRecord:
    name: str
    users: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SharedFileRecord:
    """A shared file as its message keeps it (a ready file never changes)."""

    fileId: str
    name: str
    size: int
    contentType: str
    uploadedBy: str
    createdAt: str


@dataclass(frozen=True, slots=True)
class MessageRecord:
    channelId: str
    workspaceId: str
    ts: str
    userId: str
    text: str
    createdAt: str
    threadTs: str | None = None
    replyCount: int = 0
    latestReplyTs: str | None = None
    reactions: tuple[ReactionRecord, ...] = ()
    editedTs: str | None = None
    clientMsgId: str | None = None
    fileIds: tuple[str, ...] | None = None
    files: tuple[SharedFileRecord, ...] | None = None
    mentions: frozenset[str] | None = None  # user ids of <@user> mentions
    broadcast: str | None = None  # "channel" for <!channel>, "here" for <!here>
    hereUsers: frozenset[str] | None = None  # who was active when a <!here> was sent
    appId: str | None = None
    subtype: str | None = None
    blocks: str | None = None  # Block Kit blocks as stored JSON (parley.domain.blocks)
    version: int = 1


@dataclass(frozen=True, slots=True)
class FileRecord:
    fileId: str
    workspaceId: str
    name: str
    size: int
    contentType: str
    status: str  # "pending" or "ready"
    uploadedBy: str
    createdAt: str
    objectKey: str
    uploadExpiresAt: int  # epoch seconds: the presigned POST's expiry
    channelId: str | None = None  # where the upload was started, if it said so


@dataclass(frozen=True, slots=True)
class UserGroupRecord:
    usergroupId: str
    workspaceId: str
    handle: str
    name: str
    userIds: tuple[str, ...]
    createdBy: str
    createdAt: str
    disabledAt: str | None = None  # disabled (Slack's usergroups.disable) then, by disabledBy
    disabledBy: str | None = None


@dataclass(frozen=True, slots=True)
class BookmarkRecord:
    bookmarkId: str
    channelId: str
    workspaceId: str
    title: str
    link: str
    createdBy: str
    createdAt: str
    updatedAt: str
    updatedBy: str
    emoji: str | None = None


@dataclass(frozen=True, slots=True)
class ScheduledMessageRecord:
    """A message waiting for its time (`postAt`, ISO 8601 UTC) in its author's list."""

    scheduledId: str
    userId: str
    workspaceId: str
    channelId: str
    text: str
    postAt: str
    createdAt: str
    threadTs: str | None = None
    appId: str | None = None  # an app's bot scheduled it (Slack's chat.scheduleMessage)


@dataclass(frozen=True, slots=True)
class ReminderRecord:
    """A reminder waiting for its time (`at`, ISO 8601 UTC), about a message or not."""

    reminderId: str
    userId: str
    text: str
    at: str
    createdAt: str
    workspaceId: str | None = None  # the channel's; None: every workspace of the user
    channelId: str | None = None
    ts: str | None = None
    # A recurring one (`Recurrence.encode()`): `at` is its next occurrence, `firstAt` the
    # first, from which the series keeps its time of day and its day of the month.
    recurrence: str | None = None
    firstAt: str | None = None


@dataclass(frozen=True, slots=True)
class PinRecord:
    channelId: str
    ts: str
    pinnedBy: str
    pinnedAt: str


@dataclass(frozen=True, slots=True)
class FollowRecord:
    """A thread the user follows, and their read marker in it."""

    userId: str
    channelId: str
    workspaceId: str
    threadTs: str
    lastReadTs: str


@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    connectionId: str
    userId: str
    workspaceId: str
    connectedAt: str
    presenceSubs: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    recipientId: str
    workspaceId: str
    channelId: str
    ts: str
    userId: str  # the message's author
    type: str  # "mention", "dm", "reminder" or "scheduled_dropped"
    createdAt: str
    delivered: str | None = None  # "live" or "push" once it reached the recipient
    # A reminder's or a dropped scheduled message's: its id (the item's key in place of the
    # channel, which it may not have) and its text.
    itemId: str | None = None
    text: str | None = None
    messageTs: str | None = None  # the message a reminder is about


@dataclass(frozen=True, slots=True)
class AppRecord:
    appId: str
    workspaceId: str
    name: str
    botUserId: str
    signingSecret: str
    createdBy: str
    createdAt: str
    scopes: tuple[str, ...] = ()
    scopeNames: int | None = None
    eventsUrl: str | None = None
    commands: tuple[str, ...] = ()
    commandUrl: str | None = None
    tokenHash: str | None = None
    events: tuple[str, ...] = ()
    eventsVerifiedUrl: str | None = None
    eventsFailures: int = 0
    eventsPaused: bool = False
    eventsPausedReason: str | None = None


@dataclass(frozen=True, slots=True)
class BotTokenRecord:
    """What one look-up of a bot token's hash needs to authenticate a request."""

    appId: str
    workspaceId: str
    botUserId: str
    scopes: tuple[str, ...] = ()
    scopeNames: int | None = None


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    hookId: str
    appId: str
    workspaceId: str
    channelId: str
    botUserId: str
    tokenHash: str
    createdBy: str
    createdAt: str


@dataclass(frozen=True, slots=True)
class WebhookTokenRecord:
    hookId: str
    appId: str
    workspaceId: str
    channelId: str
    botUserId: str


@dataclass(frozen=True, slots=True)
class CommandRunRecord:
    """A slash command sent with a clientMsgId: its result once the app answered."""

    channelId: str
    userId: str
    clientMsgId: str
    result: str | None = None  # the CommandResult as JSON; None while the app is called


@dataclass(frozen=True, slots=True)
class CommandResponseRecord:
    """A slash command's response_url: where the reply goes and as whom, and its uses."""

    tokenHash: str
    appId: str
    workspaceId: str
    channelId: str
    userId: str  # the invoker: ephemeral replies go to them alone
    botUserId: str
    command: str
    expires: int  # epoch seconds
    threadTs: str | None = None
    uses: int = 0
    shownTs: str | None = None
    shownAs: str | None = None


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """A Slack export's import into a workspace (parley.domain.imports): its upload, its
    progress and what it wrote."""

    importId: str
    workspaceId: str
    name: str  # the zip's name as the admin gave it
    size: int  # bytes, as declared when the import was created
    createdBy: str
    createdAt: str
    objectKey: str  # where the zip is uploaded, under imports/<importId>/
    uploadExpiresAt: int  # epoch seconds: the presigned POST's expiry
    status: str = "pending"  # "pending", "running", "done" or "failed"
    reason: str | None = None  # why it failed
    teamId: str | None = None  # the export's Slack team, once planned
    objectSize: int | None = None  # the uploaded zip's bytes, once planned
    chunks: int | None = None  # day files queued, once planned
    chunksDone: int = 0
    users: int = 0
    channels: int = 0
    messages: int = 0  # top-level messages
    replies: int = 0
    reactions: int = 0  # (reaction, user) pairs
    files: int = 0  # files noted in messages (the export holds no file content)
    invalid: int = 0  # messages that could not be imported (their reasons in `errors`)
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RetentionRecord:
    """A retention policy: the workspace's (channelId None) or a channel's, which overrides
    the workspace's; `days` None on a channel keeps it forever."""

    workspaceId: str
    channelId: str | None
    days: int | None
    setBy: str
    setAt: str


@dataclass(frozen=True, slots=True)
class ExpiredMessage:
    """What the retention sweep needs of a message it deletes."""

    ts: str
    threadTs: str | None
    replyCount: int
    fileIds: tuple[str, ...]
    latestReplyTs: str | None = None


@dataclass(frozen=True, slots=True)
class RetentionDeletion:
    """One step of a channel's sweep: what goes, in the order it goes (files first and the
    messages last, so that a step cut short is found again and finished by its retry)."""

    workspaceId: str
    channelId: str
    files: tuple[str, ...]  # file ids whose every share goes now
    shares: tuple[tuple[str, str], ...]  # (file id, message ts) in this channel
    pins: tuple[str, ...]
    replies: tuple[str, ...]
    roots: tuple[str, ...]
