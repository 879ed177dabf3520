"""What the OpenAPI document says of each operation beyond its types: its tag, an id named by
intent, a summary, and examples of the bodies it takes and returns. Read by
openapi_document.py only (the Lambda never imports it); tests/functional/test_openapi.py
fails when a route has no entry here, or an example does not fit its schema."""

from __future__ import annotations

from typing import Any, NamedTuple


class Operation(NamedTuple):
    tag: str
    operation_id: str
    summary: str


TAGS = {
    "identity": "The caller: profile, presence, notifications",
    "workspaces": "Workspaces, invites and members",
    "channels": "Channels, DMs and their members",
    "messages": "Messages, threads and edits",
    "reactions and pins": "Reactions and pinned messages",
    "read state": "Read markers and unread counts",
    "files": "Uploads (presigned POST) and downloads",
    "search": "Full-text search of messages",
    "apps": "Slack-compatible apps: bot tokens, events, commands",
    "webhooks": "Incoming webhooks (Slack's payload)",
    "imports": "Slack export imports",
    "team features": "User groups, bookmarks, archiving, notification preferences, retention",
    "slack web api": "Slack's Web API (/api/{method}) for bot tokens",
}

OPERATIONS: dict[str, Operation] = {
    "GET /me": Operation(
        "identity", "getMe", "Get the caller's profile (provisioned on first call)"
    ),
    "PUT /me/presence": Operation(
        "identity", "setPresence", "Set the caller's presence to auto or away"
    ),
    "GET /me/notifications": Operation(
        "identity", "listNotifications", "List the caller's mentions and DM notifications"
    ),
    "POST /workspaces": Operation(
        "workspaces", "createWorkspace", "Create a workspace (with its general channel)"
    ),
    "GET /workspaces": Operation("workspaces", "listWorkspaces", "List the caller's workspaces"),
    "GET /workspaces/{wid}": Operation(
        "workspaces", "getWorkspace", "Get a workspace the caller belongs to"
    ),
    "POST /workspaces/{wid}/invites": Operation(
        "workspaces", "createInvite", "Create an invite code to the workspace"
    ),
    "POST /invites/{code}/accept": Operation(
        "workspaces", "acceptInvite", "Join a workspace with an invite code"
    ),
    "GET /workspaces/{wid}/members": Operation(
        "workspaces", "listWorkspaceMembers", "List the workspace's members and their roles"
    ),
    "GET /workspaces/{wid}/presence": Operation(
        "workspaces", "getPresence", "Get the presence of workspace members"
    ),
    "POST /workspaces/{wid}/channels": Operation(
        "channels", "createChannel", "Create a public or private channel"
    ),
    "GET /workspaces/{wid}/channels": Operation(
        "channels", "listChannels", "List the channels the caller can see"
    ),
    "POST /workspaces/{wid}/dms": Operation(
        "channels", "openDirectMessage", "Open a DM or group DM with other members"
    ),
    "GET /channels/{cid}": Operation("channels", "getChannel", "Get a channel"),
    "PATCH /channels/{cid}": Operation(
        "channels", "updateChannel", "Rename a channel or set its topic"
    ),
    "POST /channels/{cid}/join": Operation("channels", "joinChannel", "Join a public channel"),
    "POST /channels/{cid}/leave": Operation("channels", "leaveChannel", "Leave a channel"),
    "POST /channels/{cid}/members": Operation(
        "channels", "addChannelMembers", "Add workspace members to a channel"
    ),
    "GET /channels/{cid}/members": Operation(
        "channels", "listChannelMembers", "List a channel's members"
    ),
    "GET /channels/{cid}/messages": Operation(
        "messages", "listMessages", "List a channel's top-level messages, newest first"
    ),
    "POST /channels/{cid}/messages": Operation(
        "messages", "postMessage", "Post a message, a reply or a slash command"
    ),
    "GET /channels/{cid}/messages/{ts}": Operation("messages", "getMessage", "Get one message"),
    "PATCH /channels/{cid}/messages/{ts}": Operation(
        "messages", "editMessage", "Edit one's own message"
    ),
    "DELETE /channels/{cid}/messages/{ts}": Operation(
        "messages", "deleteMessage", "Delete a message (its author or an admin)"
    ),
    "GET /channels/{cid}/messages/{ts}/replies": Operation(
        "messages", "listReplies", "List a thread's replies, oldest first"
    ),
    "PUT /channels/{cid}/messages/{ts}/reactions/{name}": Operation(
        "reactions and pins", "addReaction", "React to a message (idempotent)"
    ),
    "DELETE /channels/{cid}/messages/{ts}/reactions/{name}": Operation(
        "reactions and pins", "removeReaction", "Remove one's reaction (idempotent)"
    ),
    "PUT /channels/{cid}/pins/{ts}": Operation(
        "reactions and pins", "pinMessage", "Pin a message (idempotent)"
    ),
    "DELETE /channels/{cid}/pins/{ts}": Operation(
        "reactions and pins", "unpinMessage", "Unpin a message (idempotent)"
    ),
    "GET /channels/{cid}/pins": Operation(
        "reactions and pins", "listPins", "List a channel's pinned messages, newest pin first"
    ),
    "POST /channels/{cid}/read": Operation(
        "read state", "markChannelRead", "Move the caller's read marker in a channel"
    ),
    "POST /channels/{cid}/threads/{threadTs}/read": Operation(
        "read state", "markThreadRead", "Move the caller's read marker in a thread"
    ),
    "GET /workspaces/{wid}/unreads": Operation(
        "read state", "listUnreads", "Get unread and mention counts per channel and thread"
    ),
    "POST /workspaces/{wid}/files": Operation(
        "files", "startUpload", "Start a file upload: a presigned POST"
    ),
    "POST /files/{fid}/complete": Operation(
        "files", "completeUpload", "Complete an upload once the object is in the bucket"
    ),
    "GET /files/{fid}": Operation("files", "getFile", "Get a file and a download URL"),
    "GET /workspaces/{wid}/search": Operation(
        "search", "searchMessages", "Search the messages the caller may read"
    ),
    "POST /workspaces/{wid}/apps": Operation(
        "apps", "createApp", "Create an app with its bot user, token and signing secret"
    ),
    "GET /workspaces/{wid}/apps": Operation(
        "apps", "listApps", "List the workspace's apps (admins)"
    ),
    "PATCH /apps/{appId}": Operation(
        "apps", "updateApp", "Change an app's name, URLs, events or commands"
    ),
    "DELETE /apps/{appId}": Operation(
        "apps", "deleteApp", "Delete an app; its token stops working"
    ),
    "POST /apps/{appId}/token/rotate": Operation(
        "apps", "rotateBotToken", "Issue a new bot token; the old one stops working"
    ),
    "DELETE /apps/{appId}/token": Operation("apps", "revokeBotToken", "Revoke the app's bot token"),
    "POST /apps/{appId}/events/resume": Operation(
        "apps", "resumeAppEvents", "Resume a paused event subscription"
    ),
    "POST /commands/{token}": Operation(
        "apps", "respondToCommand", "Answer a slash command later (Slack's response_url)"
    ),
    "POST /channels/{cid}/webhooks": Operation(
        "webhooks", "createWebhook", "Create an incoming webhook into a channel"
    ),
    "GET /channels/{cid}/webhooks": Operation(
        "webhooks", "listWebhooks", "List a channel's incoming webhooks"
    ),
    "DELETE /channels/{cid}/webhooks/{hookId}": Operation(
        "webhooks", "revokeWebhook", "Revoke an incoming webhook"
    ),
    "POST /hooks/{token}": Operation(
        "webhooks", "postViaWebhook", "Post through an incoming webhook (Slack's payload)"
    ),
    "POST /workspaces/{wid}/usergroups": Operation(
        "team features", "createUserGroup", "Create a user group (workspace admins)"
    ),
    "GET /workspaces/{wid}/usergroups": Operation(
        "team features",
        "listUserGroups",
        "List the workspace's user groups, by handle (disabled ones with includeDisabled)",
    ),
    "PATCH /usergroups/{gid}": Operation(
        "team features",
        "updateUserGroup",
        "Change a user group's handle, name or users, or disable or enable it",
    ),
    "DELETE /usergroups/{gid}": Operation(
        "team features", "deleteUserGroup", "Delete a user group (workspace admins)"
    ),
    "POST /channels/{cid}/bookmarks": Operation(
        "team features", "addBookmark", "Bookmark a link in a channel (members)"
    ),
    "GET /channels/{cid}/bookmarks": Operation(
        "team features", "listBookmarks", "List a channel's bookmarks, oldest first"
    ),
    "PATCH /bookmarks/{id}": Operation(
        "team features", "updateBookmark", "Change a bookmark's title, link or emoji"
    ),
    "DELETE /bookmarks/{id}": Operation(
        "team features", "removeBookmark", "Remove a bookmark from its channel"
    ),
    "POST /channels/{cid}/archive": Operation(
        "team features", "archiveChannel", "Archive a channel (its creator or an admin)"
    ),
    "POST /channels/{cid}/unarchive": Operation(
        "team features", "unarchiveChannel", "Unarchive a channel (its creator or an admin)"
    ),
    "PUT /channels/{cid}/notifications": Operation(
        "team features", "setNotificationLevel", "Set the caller's notification level here"
    ),
    "PUT /workspaces/{wid}/retention": Operation(
        "team features", "setWorkspaceRetention", "Keep the workspace's messages this many days"
    ),
    "PUT /channels/{cid}/retention": Operation(
        "team features", "setChannelRetention", "Keep the channel's messages this many days"
    ),
    "PUT /me/dnd": Operation(
        "team features", "setDoNotDisturb", "Hold the caller's pushes until a time (or end it)"
    ),
    "POST /channels/{cid}/scheduled": Operation(
        "team features", "scheduleMessage", "Schedule a message to post as the caller later"
    ),
    "GET /me/scheduled": Operation(
        "team features", "listScheduledMessages", "List the caller's pending scheduled messages"
    ),
    "DELETE /scheduled/{id}": Operation(
        "team features", "cancelScheduledMessage", "Cancel a pending scheduled message"
    ),
    "POST /me/reminders": Operation(
        "team features", "addReminder", "Set a reminder for the caller at a time"
    ),
    "GET /me/reminders": Operation(
        "team features", "listReminders", "List the caller's pending reminders"
    ),
    "DELETE /reminders/{id}": Operation(
        "team features", "deleteReminder", "Delete a pending reminder"
    ),
    "POST /workspaces/{wid}/imports": Operation(
        "imports", "createImport", "Create a Slack import: a presigned POST of the export"
    ),
    "POST /imports/{importId}/start": Operation(
        "imports", "startImport", "Start importing the uploaded export"
    ),
    "GET /imports/{importId}": Operation(
        "imports", "getImport", "Get an import's status and counts"
    ),
}

# Example request bodies, one per body schema (each must fit it: test_openapi checks).
REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "CreateWorkspace": {"name": "Acme"},
    "CreateChannel": {"name": "design-reviews", "private": False, "topic": "Fridays at 3"},
    "UpdateChannel": {"topic": "Fridays at 4"},
    "OpenDirectMessage": {"userIds": ["8c1f0a2e-5b7d-4e11-9a3c-2f6d7e8a9b0c"]},
    "AddMembers": {"userIds": ["8c1f0a2e-5b7d-4e11-9a3c-2f6d7e8a9b0c"]},
    "PostMessage": {
        "text": "Ready for review <@8c1f0a2e-5b7d-4e11-9a3c-2f6d7e8a9b0c>?",
        "clientMsgId": "5e0c7d1a-3f5b-4c2e-9d8a-1b2c3d4e5f60",
    },
    "EditMessage": {"text": "Ready for review, take two"},
    "MarkRead": {"ts": "1732700000.000123"},
    "SetPresence": {"status": "away"},
    "CreateFileUpload": {"name": "plan.pdf", "size": 48213, "contentType": "application/pdf"},
    "CreateApp": {
        "name": "Deploy bot",
        "scopes": ["chat:write", "channels:history", "commands"],
        "eventsUrl": "https://bot.example.com/slack/events",
        "events": ["message.channels", "app_mention"],
        "commands": ["/deploy"],
        "commandUrl": "https://bot.example.com/slack/commands",
    },
    "UpdateApp": {"eventsUrl": "https://bot.example.com/slack/events/v2"},
    "CreateWebhook": {"appId": "A0123456789"},
    "CreateImport": {"name": "acme-export.zip", "size": 73400320},
    "CreateUserGroup": {
        "handle": "oncall",
        "name": "On call",
        "userIds": ["8c1f0a2e-5b7d-4e11-9a3c-2f6d7e8a9b0c"],
    },
    "UpdateUserGroup": {"name": "On call this week"},
    "CreateBookmark": {
        "title": "Runbook",
        "link": "https://wiki.example.com/runbook",
        "emoji": ":book:",
    },
    "UpdateBookmark": {"title": "Runbook (v2)"},
    "SetNotificationLevel": {"level": "mentions"},
    "SetDoNotDisturb": {"until": "2026-12-07T18:00:00Z"},
    "SetRetention": {"days": 90},
    "ScheduleMessage": {"text": "Stand-up in five minutes", "postAt": "2026-12-08T09:55:00Z"},
    "CreateReminder": {
        "text": "Review the release notes",
        "at": "2026-12-08T14:00:00Z",
        "channelId": "C0123456789",
        "ts": "1732700000.000123",
    },
}

_USER = {
    "id": "8c1f0a2e-5b7d-4e11-9a3c-2f6d7e8a9b0c",
    "name": "Alice Example",
    "email": "alice@example.com",
}
_MESSAGE = {
    "ts": "1732700000.000123",
    "channelId": "C0123456789",
    "userId": _USER["id"],
    "text": "Ready for review?",
    "replyCount": 0,
    "reactions": [{"name": "eyes", "count": 1, "users": [_USER["id"]]}],
}
_CHANNEL = {
    "id": "C0123456789",
    "workspaceId": "W0123456789",
    "name": "design-reviews",
    "type": "public",
    "topic": "Fridays at 3",
    "createdBy": _USER["id"],
    "createdAt": "2026-12-07T10:00:00Z",
    "isMember": True,
    "memberCount": 12,
}

_BOOKMARK = {
    "id": "Bk0123456789",
    "channelId": "C0123456789",
    "title": "Runbook",
    "link": "https://wiki.example.com/runbook",
    "emoji": ":book:",
    "createdBy": _USER["id"],
}

# Example replies, by response schema.
REPLY_EXAMPLES: dict[str, dict[str, Any]] = {
    "UserReply": {"user": _USER},
    "MessageReply": {"message": _MESSAGE},
    "MessagesReply": {"messages": [_MESSAGE], "nextCursor": None},
    "ChannelReply": {"channel": _CHANNEL},
    "WorkspaceReply": {
        "workspace": {
            "id": "W0123456789",
            "name": "Acme",
            "createdAt": "2026-12-07T10:00:00Z",
            "role": "admin",
        }
    },
    "UserGroupReply": {
        "usergroup": {
            "id": "S0123456789",
            "handle": "oncall",
            "name": "On call",
            "userIds": [_USER["id"]],
        }
    },
    "BookmarkReply": {"bookmark": _BOOKMARK},
    "BookmarksReply": {"bookmarks": [_BOOKMARK]},
    "ScheduledReply": {
        "scheduled": {
            "id": "Q0123456789",
            "channelId": "C0123456789",
            "text": "Stand-up in five minutes",
            "postAt": "2026-12-08T09:55:00.000Z",
            "threadTs": None,
        }
    },
    "ReminderReply": {
        "reminder": {
            "id": "Rm0123456789",
            "text": "Review the release notes",
            "at": "2026-12-08T14:00:00.000Z",
            "channelId": "C0123456789",
            "ts": "1732700000.000123",
        }
    },
    "ErrorReply": {"error": {"code": "not_found", "message": "no such channel"}},
}
