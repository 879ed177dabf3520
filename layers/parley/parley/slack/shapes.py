"""Parley's objects in Slack's shapes (the Web API's replies): pure code.

In Slack's terms a Parley workspace is the `team`, its channel and user ids are Slack's, and
a bot's `bot_id` is its bot user's id (an app's bot has one identity here, where Slack gives
it a user id and a bot id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parley.domain.objects import Channel, Message, UserGroup
from parley.domain.records import BookmarkRecord
from parley.edge.schemas import WorkspaceMember

# Parley's channel types as Slack's conversation kinds (the `types` of conversations.list).
CONVERSATION_TYPES = {
    "public": "public_channel",
    "private": "private_channel",
    "dm": "im",
    "group_dm": "mpim",
}


def epoch(iso: str) -> int:
    """An ISO 8601 instant as Slack's integer epoch seconds (`created`, `last_set`)."""
    return int(datetime.fromisoformat(iso).timestamp())


def message(item: Message, team_id: str | None = None) -> dict[str, Any]:
    """A message as Slack's conversations.history returns it."""
    out: dict[str, Any] = {"type": "message", "user": item.userId, "text": item.text, "ts": item.ts}
    if item.subtype:
        out["subtype"] = item.subtype
    if item.appId:
        out["bot_id"] = item.userId
        out["app_id"] = item.appId
    if team_id:
        out["team"] = team_id
    if item.threadTs:
        out["thread_ts"] = item.threadTs
    if item.replyCount:
        out["reply_count"] = item.replyCount
        if item.latestReplyTs:
            out["latest_reply"] = item.latestReplyTs
    if item.reactions:
        out["reactions"] = [
            {"name": r.name, "users": list(r.users), "count": r.count} for r in item.reactions
        ]
    if item.edited is not None:
        out["edited"] = {"user": item.userId, "ts": item.edited.ts}
    blocks = getattr(item, "blocks", None)
    if blocks:
        out["blocks"] = blocks
    if item.files:
        out["files"] = [
            {
                "id": f.id,
                "name": f.name,
                "title": f.name,
                "mimetype": f.contentType,
                "size": f.size,
                "user": f.uploadedBy,
                "created": epoch(f.createdAt),
            }
            for f in item.files
        ]
    if item.clientMsgId:
        out["client_msg_id"] = item.clientMsgId
    return out


def channel(item: Channel) -> dict[str, Any]:
    """A conversation as Slack's conversations.info returns it."""
    created = epoch(item.createdAt)
    out: dict[str, Any] = {
        "id": item.id,
        "created": created,
        "creator": item.createdBy,
        "is_channel": item.type == "public",
        "is_group": item.type == "private",
        "is_im": item.type == "dm",
        "is_mpim": item.type == "group_dm",
        "is_private": item.type != "public",
        "is_archived": bool(getattr(item, "isArchived", False)),
        "is_member": item.isMember,
        "context_team_id": item.workspaceId,
        "num_members": item.memberCount,
    }
    if item.type != "dm":
        out |= {
            "name": item.name,
            "name_normalized": item.name,
            "is_general": item.type == "public" and item.name == "general",
            "topic": {"value": item.topic, "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
    return out


def user(member: WorkspaceMember, team_id: str, *, with_email: bool) -> dict[str, Any]:
    """A workspace member as Slack's users.info returns it; the email only for a token
    with `users:read.email`."""
    person = member.user
    profile: dict[str, Any] = {
        "real_name": person.name,
        "display_name": person.name,
        "real_name_normalized": person.name,
        "display_name_normalized": person.name,
        "team": team_id,
    }
    if with_email and person.email:
        profile["email"] = person.email
    if member.isBot:
        profile["bot_id"] = person.id
    return {
        "id": person.id,
        "team_id": team_id,
        "name": person.name,
        "real_name": person.name,
        "deleted": False,
        "is_admin": member.role == "admin",
        "is_owner": False,
        "is_bot": member.isBot,
        "is_app_user": False,
        "tz": "UTC",
        "tz_offset": 0,
        "profile": profile,
    }


def usergroup(group: UserGroup, team_id: str, *, with_users: bool) -> dict[str, Any]:
    """A user group as Slack's usergroups methods return it (`users` when asked for); a
    disabled one has its `date_delete` (epoch seconds) and `deleted_by`."""
    shaped: dict[str, Any] = {
        "id": group.id,
        "team_id": team_id,
        "is_usergroup": True,
        "is_subteam": True,
        "name": group.name,
        "description": "",
        "handle": group.handle,
        "is_external": False,
        "date_delete": epoch(group.disabledAt) if group.disabledAt else 0,
        "deleted_by": group.disabledBy,
        "auto_type": None,
        "prefs": {"channels": [], "groups": []},
        "user_count": len(group.userIds),
    }
    if with_users:
        shaped["users"] = list(group.userIds)
    return shaped


def bookmark(item: BookmarkRecord, team_id: str) -> dict[str, Any]:
    """A bookmark as Slack's bookmarks methods return it (links only)."""
    updated = epoch(item.updatedAt) if item.updatedAt != item.createdAt else 0
    return {
        "id": item.bookmarkId,
        "channel_id": item.channelId,
        "title": item.title,
        "link": item.link,
        "emoji": item.emoji,
        "icon_url": None,
        "type": "link",
        "entity_id": None,
        "date_created": epoch(item.createdAt),
        "date_updated": updated,
        "rank": "",
        "last_updated_by_user_id": item.updatedBy,
        "last_updated_by_team_id": team_id,
        "shortcut_id": None,
        "app_id": None,
    }
