"""Item types of the application table (see docs/data-model.md for the key layout)."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)

from parley.adapters.dynamodb.base import Gsi1, Item


class UserItem(Item):
    """PK USER#<uid>, SK PROFILE; GSI1 EMAIL#<lowercased email> / USER#<uid> finds a user
    by email (Slack's users.lookupByEmail), for users with an email."""

    userId = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    # Made by a Slack import (parley.domain.imports): "placeholder" for a person whom
    # signing up with that email claims, "bot" for a bot of the export (one per bot id).
    imported = UnicodeAttribute(null=True)
    # A placeholder's: the user who signed up with its email and took it over.
    claimedBy = UnicodeAttribute(null=True)

    gsi1: Gsi1[UserItem] = Gsi1()


class WorkspaceItem(Item):
    """PK WS#<wid>, SK WS."""

    workspaceId = UnicodeAttribute()
    name = UnicodeAttribute()
    createdBy = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    generalChannelId = UnicodeAttribute()


class WorkspaceMemberItem(Item):
    """PK WS#<wid>, SK MEMBER#<uid>; GSI1 USER#<uid> / WS#<wid> lists a user's workspaces."""

    workspaceId = UnicodeAttribute()
    userId = UnicodeAttribute()
    role = UnicodeAttribute()
    joinedAt = UnicodeAttribute()
    # An app's bot user: sees only the channels it was added to, never the public ones.
    isBot = BooleanAttribute(default=False)

    gsi1: Gsi1[WorkspaceMemberItem] = Gsi1()


class InviteItem(Item):
    """PK INVITE#<code>, SK INVITE; removed by TTL after it expires."""

    workspaceId = UnicodeAttribute()
    createdBy = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    expiresAt = UnicodeAttribute()
    ttl = TTLAttribute()


class ChannelItem(Item):
    """PK CH#<cid>, SK META; public channels also GSI1 WS#<wid>#PUBLIC / <name>.

    Routes name a channel by id alone, so the channel lives in its own partition beside its
    members and messages; the workspace reaches its public channels through GSI1.
    """

    channelId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    name = UnicodeAttribute()
    type = UnicodeAttribute()
    topic = UnicodeAttribute(default="")
    createdBy = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    memberCount = NumberAttribute(default=0)
    isArchived = BooleanAttribute(default=False)
    notifyAllCount = NumberAttribute(default=0)  # members whose notification level is "all"

    gsi1: Gsi1[ChannelItem] = Gsi1()


class ChannelNameItem(Item):
    """PK WS#<wid>, SK CHNAME#<name>: claims a name, written in the channel's transaction."""

    channelId = UnicodeAttribute()


class ChannelMemberItem(Item):
    """PK CH#<cid>, SK MEMBER#<uid>; GSI1 USER#<uid> / CH#<wid>#<cid> lists a user's channels."""

    channelId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    userId = UnicodeAttribute()
    joinedAt = UnicodeAttribute()
    lastReadTs = UnicodeAttribute(null=True)
    notifyLevel = UnicodeAttribute(null=True)  # the member's notification level, if chosen

    gsi1: Gsi1[ChannelMemberItem] = Gsi1()


class ReactionMap(MapAttribute[str, object]):
    name = UnicodeAttribute()
    users = ListAttribute(of=UnicodeAttribute, default=list)


class FileMap(MapAttribute[str, object]):
    """A shared file as the message shows it. Name, size and type never change once a file
    is ready, so the message keeps them and history needs no look-up per file."""

    fileId = UnicodeAttribute()
    name = UnicodeAttribute()
    size = NumberAttribute()
    contentType = UnicodeAttribute()
    uploadedBy = UnicodeAttribute()
    createdAt = UnicodeAttribute()


class MessageItem(Item):
    """PK CH#<cid>, SK MSG#<ts>; replies also GSI1 THREAD#<cid>#<parentTs> / <ts>.

    Replies share the MSG# key space with top-level messages so that one conditional put
    makes `ts` unique in the channel.
    """

    channelId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    ts = UnicodeAttribute()
    userId = UnicodeAttribute()
    text = UnicodeAttribute()
    threadTs = UnicodeAttribute(null=True)
    replyCount = NumberAttribute(default=0)
    latestReplyTs = UnicodeAttribute(null=True)
    reactions = ListAttribute(of=ReactionMap, default=list)
    editedTs = UnicodeAttribute(null=True)
    clientMsgId = UnicodeAttribute(null=True)
    fileIds = ListAttribute(of=UnicodeAttribute, null=True)  # search's has:file reads it
    files = ListAttribute(of=FileMap, null=True)
    mentions = UnicodeSetAttribute(null=True)  # user ids of <@user> mentions
    broadcast = UnicodeAttribute(null=True)  # "channel" for <!channel>, "here" for <!here>
    hereUsers = UnicodeSetAttribute(null=True)  # who was active when a <!here> was sent
    # Posted by an app's bot: the app (Slack's bot_id is the bot's user id, `userId`).
    appId = UnicodeAttribute(null=True)
    # Slack's message subtype where it has one: "bot_message" for an incoming webhook's post.
    subtype = UnicodeAttribute(null=True)
    # Block Kit blocks as the JSON text of a list of objects (`text` is their fallback).
    blocks = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)
    createdAt = UnicodeAttribute()
    # Written by a Slack import: history, which notifies no one (the notifier's stream
    # filter leaves it out) and sends apps no message event.
    imported = BooleanAttribute(null=True)

    gsi1: Gsi1[MessageItem] = Gsi1()


class FileItem(Item):
    """PK WS#<wid>, SK FILE#<fid>: an upload, `pending` until its object is checked.

    A pending file carries `ttl` (its upload is abandoned after a day, as the bucket's
    lifecycle rule removes the object); completion removes it.
    """

    fileId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    name = UnicodeAttribute()
    size = NumberAttribute()
    contentType = UnicodeAttribute()
    status = UnicodeAttribute()  # "pending" or "ready"
    uploadedBy = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    objectKey = UnicodeAttribute()
    uploadExpiresAt = NumberAttribute()  # epoch seconds: the presigned POST's expiry
    channelId = UnicodeAttribute(null=True)  # where the upload was started, if it said so
    ttl = TTLAttribute(null=True)


class FileRefItem(Item):
    """PK FILE#<fid>, SK FILE: the file's workspace, for routes that name a file by id alone.

    Written in the file's own transaction. The file's shares live in the same partition.
    """

    workspaceId = UnicodeAttribute()
    ttl = TTLAttribute(null=True)


class FileShareItem(Item):
    """PK FILE#<fid>, SK SHARE#<cid>#<ts>: a message that shares the file.

    Written in the message's own transaction and deleted with it, so a file is visible
    exactly where a message shares it.
    """

    channelId = UnicodeAttribute()
    ts = UnicodeAttribute()


class PinItem(Item):
    """PK CH#<cid>, SK PIN#<ts>: a pinned message."""

    ts = UnicodeAttribute()
    pinnedBy = UnicodeAttribute()
    pinnedAt = UnicodeAttribute()


class DirectMessageItem(Item):
    """PK WS#<wid>, SK DM#<sorted member ids>: the one DM channel of that set of users."""

    channelId = UnicodeAttribute()


class FollowItem(Item):
    """PK USER#<uid>, SK FOLLOW#<cid>#<threadTs>: a followed thread and its read marker."""

    channelId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    threadTs = UnicodeAttribute()
    lastReadTs = UnicodeAttribute()


class ClientMsgItem(Item):
    """PK CH#<cid>, SK CLIENTMSG#<uid>#<clientMsgId>: a send's retry key, kept 24 hours."""

    ts = UnicodeAttribute()
    ttl = TTLAttribute()


class ConnectionItem(Item):
    """PK CONN#<connId>, SK CONN: who is behind a WebSocket connection; TTL-bounded."""

    connectionId = UnicodeAttribute()
    userId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    connectedAt = UnicodeAttribute()
    presenceSubs = UnicodeSetAttribute(null=True)  # users this connection watches
    ttl = TTLAttribute()


class UserConnectionsItem(Item):
    """PK USER#<uid>, SK CONNS#<wid>: the user's live connection ids in one workspace; while
    it holds any, GSI1 ONLINE#<wid> / USER#<uid>: the workspace's index of who is online."""

    conns = UnicodeSetAttribute(default=set)

    gsi1: Gsi1[UserConnectionsItem] = Gsi1()


class PresenceItem(Item):
    """PK USER#<uid>, SK PRESENCE#<wid>: last sign of life, and the status last announced;
    until the sweep announces its expiry, GSI1 PRESENCE_EXPIRY#<minute> / <expiry>#<wid>#<uid>.
    SK PRESENCE (no workspace) holds the user's manual away, which holds everywhere."""

    lastSeen = NumberAttribute(default=0)
    announced = UnicodeAttribute(null=True)
    manualAway = BooleanAttribute(default=False)

    gsi1: Gsi1[PresenceItem] = Gsi1()


class PresenceSubItem(Item):
    """PK PRESENCESUB#<wid>#<uid>, SK CONN#<connId>: a connection watching a user's presence."""

    connectionId = UnicodeAttribute()
    watcherId = UnicodeAttribute()  # the connection's user
    ttl = TTLAttribute()


class TypingItem(Item):
    """PK TYPING#<cid>, SK USER#<uid>: when the user's last typing event went out."""

    sentAt = NumberAttribute()
    ttl = TTLAttribute()


class NotificationItem(Item):
    """PK USER#<uid>, SK NOTIF#<ts>#<cid>: a mention or DM for that user; removed by TTL.

    Keyed by the message, so a redelivered stream record lands on the same item. A reminder
    or a dropped scheduled message is NOTIF#<its time as a ts>#<its id>.
    """

    workspaceId = UnicodeAttribute()
    channelId = UnicodeAttribute()
    ts = UnicodeAttribute()
    userId = UnicodeAttribute()  # the message's author
    type = UnicodeAttribute()  # "mention", "dm", "reminder" or "scheduled_dropped"
    createdAt = UnicodeAttribute()
    delivered = UnicodeAttribute(null=True)  # "live" or "push" once it reached the recipient
    itemId = UnicodeAttribute(null=True)  # the reminder's or scheduled message's id
    text = UnicodeAttribute(null=True)
    messageTs = UnicodeAttribute(null=True)  # the message a reminder is about
    ttl = TTLAttribute()


class SendRateItem(Item):
    """PK RATE#<uid>#<cid>, SK RATE: the sender's theoretical arrival time in that channel
    (GCRA, see parley.adapters.dynamodb.ratelimits); removed by TTL once in the past."""

    tatMicros = NumberAttribute()
    ttl = TTLAttribute()


class CommandNameItem(Item):
    """PK WS#<wid>, SK CMD#</name>: claims a slash command for one app of the workspace,
    written in the transaction that creates, changes or deletes the app."""

    appId = UnicodeAttribute()


class AppItem(Item):
    """PK APP#<appId>, SK APP; GSI1 APPS#<wid> / <appId> lists a workspace's apps.

    `signingSecret` is kept readable (outgoing requests are signed with it); the bot token
    only as `tokenHash`, absent while the token is revoked.
    """

    appId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    name = UnicodeAttribute()
    scopes = ListAttribute(of=UnicodeAttribute)
    # Which scope names `scopes` uses (parley.slack.scopes): absent on apps made before
    # Slack's full set, whose four scopes meant more.
    scopeNames = NumberAttribute(null=True)
    eventsUrl = UnicodeAttribute(null=True)
    commands = ListAttribute(of=UnicodeAttribute, default=list)
    commandUrl = UnicodeAttribute(null=True)
    botUserId = UnicodeAttribute()
    signingSecret = UnicodeAttribute()
    tokenHash = UnicodeAttribute(null=True)
    createdBy = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    # Events API subscription: event types, the URL that last passed the challenge, and the
    # delivery health (consecutive lost events; paused stops deliveries until resumed).
    events = ListAttribute(of=UnicodeAttribute, default=list)
    eventsVerifiedUrl = UnicodeAttribute(null=True)
    eventsFailures = NumberAttribute(default=0)
    eventsPaused = BooleanAttribute(default=False)
    eventsPausedReason = UnicodeAttribute(null=True)

    gsi1: Gsi1[AppItem] = Gsi1()


class BotTokenItem(Item):
    """PK BOTTOKEN#<sha256 of the token>, SK TOKEN: what one GetItem needs to authenticate
    a bot request (the scopes are copied here from the app)."""

    appId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    botUserId = UnicodeAttribute()
    scopes = ListAttribute(of=UnicodeAttribute)
    scopeNames = NumberAttribute(null=True)  # as the app's


class WebhookItem(Item):
    """PK CH#<cid>, SK WEBHOOK#<hookId>: an incoming webhook of the channel, posting as an
    app's bot (listed and revoked by id; sorts after META, outside the member range)."""

    hookId = UnicodeAttribute()
    appId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    channelId = UnicodeAttribute()
    botUserId = UnicodeAttribute()
    tokenHash = UnicodeAttribute()
    createdBy = UnicodeAttribute()
    createdAt = UnicodeAttribute()


class WebhookTokenItem(Item):
    """PK HOOKTOKEN#<sha256 of the token>, SK HOOK: one GetItem from a webhook URL to where
    it posts and as whom."""

    hookId = UnicodeAttribute()
    appId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    channelId = UnicodeAttribute()
    botUserId = UnicodeAttribute()


class CommandRunItem(Item):
    """PK CH#<cid>, SK CMDRUN#<uid>#<clientMsgId>: a slash command sent with a clientMsgId,
    claimed before the app is called; `result` (the CommandResult as JSON) once it answered,
    so a retry gets the same result instead of calling the app again. Kept 24 hours."""

    result = UnicodeAttribute(null=True)
    ttl = TTLAttribute()


class CommandResponseItem(Item):
    """PK CMDRESPONSE#<sha256 of the token>, SK RESPONSE: a slash command's response_url,
    usable `uses` < its limit times until `expires` (epoch seconds); TTL removes it later.
    It remembers where the reply goes and as whom: the invoker's channel and thread, the
    app's bot."""

    appId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    channelId = UnicodeAttribute()
    threadTs = UnicodeAttribute(null=True)
    userId = UnicodeAttribute()  # the invoker: ephemeral replies go to them alone
    botUserId = UnicodeAttribute()
    command = UnicodeAttribute()
    uses = NumberAttribute(default=0)
    expires = NumberAttribute()
    ttl = TTLAttribute()
    # The command's last answer, which a later one may replace or delete: its ts, and
    # whether it was "ephemeral" (never stored) or "in_channel" (the bot's message).
    shownTs = UnicodeAttribute(null=True)
    shownAs = UnicodeAttribute(null=True)


class ImportItem(Item):
    """PK IMPORT#<importId>, SK IMPORT: a Slack export's import, its status and counts.

    The counts and `chunksDone` grow by ADD in each chunk's transaction, with the chunk's
    marker (ImportChunkItem), so a redelivered chunk counts once."""

    importId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    name = UnicodeAttribute()
    size = NumberAttribute()
    createdBy = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    objectKey = UnicodeAttribute()
    uploadExpiresAt = NumberAttribute()
    status = UnicodeAttribute()  # "pending", "running", "done" or "failed"
    reason = UnicodeAttribute(null=True)
    teamId = UnicodeAttribute(null=True)
    objectSize = NumberAttribute(null=True)
    chunks = NumberAttribute(null=True)
    chunksDone = NumberAttribute(default=0)
    users = NumberAttribute(default=0)
    channels = NumberAttribute(default=0)
    messages = NumberAttribute(default=0)
    replies = NumberAttribute(default=0)
    reactions = NumberAttribute(default=0)
    files = NumberAttribute(default=0)
    invalid = NumberAttribute(default=0)
    errors = ListAttribute(of=UnicodeAttribute, default=list)


class ImportChunkItem(Item):
    """PK IMPORT#<importId>, SK CHUNK#<conversation id>/<date>: the chunk is written and
    counted (put once, in the transaction that adds its counts to the import)."""

    doneAt = UnicodeAttribute()


class ImportMapItem(Item):
    """PK IMPORT#<importId>, SK MAP#<users|channels>#<page>: a page of the plan's map from
    Slack ids to Parley's, as compact JSON, which every chunk reads (one Query)."""

    entries = UnicodeAttribute()


class UserGroupItem(Item):
    """PK UG#<gid>, SK UG; GSI1 WS#<wid>#UG / <handle> lists a workspace's user groups."""

    usergroupId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    handle = UnicodeAttribute()
    name = UnicodeAttribute()
    userIds = ListAttribute(of=UnicodeAttribute, default=list)
    createdBy = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    disabledAt = UnicodeAttribute(null=True)
    disabledBy = UnicodeAttribute(null=True)

    gsi1: Gsi1[UserGroupItem] = Gsi1()


class UserGroupHandleItem(Item):
    """PK WS#<wid>, SK UGHANDLE#<handle>: the handle's claim (unique in the workspace)."""

    usergroupId = UnicodeAttribute()


class BookmarkItem(Item):
    """PK CH#<cid>, SK BOOKMARK#<bid>: a channel's bookmark, listed with one Query of the
    channel's partition (the keys sort before MEMBER#, outside the post path's range)."""

    bookmarkId = UnicodeAttribute()
    channelId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    title = UnicodeAttribute()
    link = UnicodeAttribute()
    emoji = UnicodeAttribute(null=True)
    createdBy = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    updatedAt = UnicodeAttribute()
    updatedBy = UnicodeAttribute()


class BookmarkPointerItem(Item):
    """PK BOOKMARK#<bid>, SK BOOKMARK: which channel the bookmark is in (routes name a
    bookmark by id alone), written in the bookmark's transaction."""

    channelId = UnicodeAttribute()


class DoNotDisturbItem(Item):
    """PK USER#<uid>, SK DND: the user's do-not-disturb end; TTL removes it a day after."""

    until = UnicodeAttribute()
    ttl = TTLAttribute(null=True)


class PushClaimItem(Item):
    """PK USER#<uid>, SK PUSH#<ts>#<cid>: a message that mentions nobody, pushed to a member
    whose level is "all"; claimed before the push so a redelivery pushes it once."""

    ttl = TTLAttribute(null=True)


class ScheduledMessageItem(Item):
    """PK USER#<uid>, SK SCHED#<id>: a pending scheduled message, in its author's list;
    GSI1 USER#<uid>#SCHED / <postAt>#<id> lists them soonest first."""

    scheduledId = UnicodeAttribute()
    userId = UnicodeAttribute()
    workspaceId = UnicodeAttribute()
    channelId = UnicodeAttribute()
    text = UnicodeAttribute()
    postAt = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    threadTs = UnicodeAttribute(null=True)
    appId = UnicodeAttribute(null=True)

    gsi1: Gsi1[ScheduledMessageItem] = Gsi1()


class ReminderItem(Item):
    """PK USER#<uid>, SK REMIND#<id>: a pending reminder; GSI1 USER#<uid>#REMIND / <at>#<id>
    lists them soonest first."""

    reminderId = UnicodeAttribute()
    userId = UnicodeAttribute()
    text = UnicodeAttribute()
    at = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    workspaceId = UnicodeAttribute(null=True)
    channelId = UnicodeAttribute(null=True)
    ts = UnicodeAttribute(null=True)
    recurrence = UnicodeAttribute(null=True)  # a recurring one: how; `at` is the next time
    firstAt = UnicodeAttribute(null=True)

    gsi1: Gsi1[ReminderItem] = Gsi1()


class RetentionItem(Item):
    """PK WS#<wid> or CH#<cid>, SK RETENTION: how many days the workspace's (or the
    channel's) messages are kept; a channel's `days` absent keeps it forever, whatever the
    workspace says. Every policy is also in the sparse GSI1 partition RETENTION /
    `<wid>#` (the workspace's) or `<wid>#<cid>` (a channel's), which the daily sweep reads
    instead of scanning the table."""

    workspaceId = UnicodeAttribute()
    channelId = UnicodeAttribute(null=True)
    days = NumberAttribute(null=True)
    setBy = UnicodeAttribute()
    setAt = UnicodeAttribute()

    gsi1: Gsi1[RetentionItem] = Gsi1()
