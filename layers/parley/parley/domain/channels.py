"""Channels: creating, listing, joining, leaving, membership."""

from __future__ import annotations

import dataclasses
import hashlib

from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.objects import Channel, User
from parley.domain.ports import Publisher
from parley.domain.ports.channels import NameTaken
from parley.domain.ports.channels import store as channel_store
from parley.domain.ports.workspaces import store as workspace_store
from parley.domain.records import ChannelRecord
from parley.domain.users import users_by_id
from parley.domain.views import channel_view
from parley.edge.schemas import CreateChannel, UpdateChannel
from parley.errors import (
    AlreadyArchived,
    CantArchiveGeneral,
    ChannelNotFound,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotArchived,
    NotFound,
    NotInChannel,
)
from parley.ids import iso_now, new_id

_TYPE_ORDER = {"public": 0, "private": 1, "group_dm": 2, "dm": 3}
MAX_GROUP_DM_OTHERS = 8


def new_channel(
    workspace_id: str, *, name: str, kind: str, topic: str, created_by: str, created_at: str
) -> ChannelRecord:
    """A channel about to be created, its creator as its one member."""
    return ChannelRecord(
        channelId=new_id("C"),
        workspaceId=workspace_id,
        name=name,
        type=kind,
        topic=topic,
        createdBy=created_by,
        createdAt=created_at,
        memberCount=1,
    )


def create_channel(
    caller: Caller, workspace_id: str, body: CreateChannel, publisher: Publisher
) -> Channel:
    access.workspace_member(workspace_id, caller.user_id)
    kind = "private" if body.private else "public"
    item = new_channel(
        workspace_id,
        name=body.name,
        kind=kind,
        topic=body.topic,
        created_by=caller.user_id,
        created_at=iso_now(),
    )
    try:
        channel_store.create_channel(item)
    except NameTaken:
        raise Conflict(f"a channel named #{body.name} already exists") from None
    event = {"type": "channel_created", "channel": channel_view(item, False).wire()}
    if kind == "public":
        publisher.to_workspace(workspace_id, event)
    else:
        member_event = {**event, "channel": channel_view(item, True).wire()}
        publisher.to_users(workspace_id, [caller.user_id], member_event)
    return channel_view(item, True)


def list_channels(caller: Caller, workspace_id: str) -> list[Channel]:
    """Public channels, and the caller's private channels and DMs, public ones first by name."""
    access.workspace_member(workspace_id, caller.user_id)
    memberships = channel_store.memberships_in_workspace(caller.user_id, workspace_id)
    mine = {m.channelId for m in memberships}
    public = channel_store.public_channels(workspace_id)
    seen = {c.channelId for c in public}
    others = channel_store.get_channels([c for c in mine if c not in seen])
    views = [channel_view(c, c.channelId in mine) for c in [*public, *others]]
    return sorted(views, key=lambda c: (_TYPE_ORDER[c.type], c.name, c.id))


def get_channel(caller: Caller, channel_id: str) -> Channel:
    channel, membership = access.visible_channel(channel_id, caller.user_id)
    return channel_view(channel, membership is not None)


def join_channel(caller: Caller, channel_id: str, publisher: Publisher) -> Channel:
    """Public channels only; joining twice is fine and announces nothing the second time."""
    channel, membership = access.visible_channel(channel_id, caller.user_id)
    if membership is not None:
        return channel_view(channel, True)
    if channel.type != "public":
        raise ChannelNotFound("channel not found")
    access.not_archived(channel)
    if channel_store.add_channel_members(channel, [caller.user_id], iso_now()):
        _announce_join(publisher, channel, [caller.user_id])
    return channel_view(_fresh(channel), True)


def leave_channel(caller: Caller, channel_id: str, publisher: Publisher) -> None:
    channel, membership = access.visible_channel(channel_id, caller.user_id)
    if membership is None:
        return
    if channel.type == "dm":
        raise Forbidden("a direct message cannot be left")
    if channel_store.remove_channel_member(channel_id, caller.user_id):
        event = {"type": "member_left_channel", "channelId": channel_id, "userId": caller.user_id}
        publisher.to_channel(channel.workspaceId, channel_id, event)
        publisher.to_users(channel.workspaceId, [caller.user_id], event)


def add_members(
    caller: Caller, channel_id: str, user_ids: list[str], publisher: Publisher
) -> list[User]:
    """Any member may add workspace members; returns the users, now all members."""
    channel, _ = access.channel_member(channel_id, caller.user_id)
    if channel.type == "dm":
        raise Forbidden("members cannot be added to a direct message")
    access.not_archived(channel)
    wanted = list(dict.fromkeys(user_ids))
    for user_id in wanted:
        if workspace_store.get_member(channel.workspaceId, user_id) is None:
            raise NotFound(f"user {user_id} is not a member of this workspace")
    added = channel_store.add_channel_members(channel, wanted, iso_now())
    if added:
        _announce_join(publisher, channel, added)
    return users_by_id(wanted)


def list_members(
    caller: Caller, channel_id: str, limit: int, cursor: str | None
) -> tuple[list[User], str | None]:
    access.visible_channel(channel_id, caller.user_id)
    items, next_cursor = channel_store.list_members(channel_id, limit, cursor)
    return users_by_id([m.userId for m in items]), next_cursor


def _announce_join(publisher: Publisher, channel: ChannelRecord, user_ids: list[str]) -> None:
    events = [
        {"type": "member_joined_channel", "channelId": channel.channelId, "userId": user_id}
        for user_id in user_ids
    ]
    publisher.to_channel_each(channel.workspaceId, channel.channelId, events)


def _fresh(channel: ChannelRecord) -> ChannelRecord:
    return channel_store.get_channel(channel.channelId) or channel


def update_channel(
    caller: Caller, channel_id: str, body: UpdateChannel, publisher: Publisher
) -> Channel:
    """Members may set the topic and rename (names stay unique); announced as channel_changed."""
    channel, _ = access.channel_member(channel_id, caller.user_id)
    access.not_archived(channel)
    if channel.type in ("dm", "group_dm") and body.name is not None:
        raise Forbidden("a direct message has no name to change")
    if body.name is not None and body.name != channel.name:
        try:
            channel_store.rename_channel(channel, body.name)
        except NameTaken:
            raise Conflict(f"a channel named #{body.name} already exists") from None
    if body.topic is not None and body.topic != channel.topic:
        channel_store.set_topic(channel_id, body.topic)
    channel = _fresh(channel)
    event = {"type": "channel_changed", "channel": channel_view(channel, False).wire()}
    if channel.type == "public":
        publisher.to_workspace(channel.workspaceId, event)
    else:
        publisher.to_channel(channel.workspaceId, channel_id, event)
    return channel_view(channel, True)


def set_archived(
    caller: Caller, channel_id: str, publisher: Publisher, *, archived: bool
) -> Channel:
    """Archives or unarchives: the channel's creator or a workspace admin (403 for other
    members; a private channel the caller is not in is 404). Archiving an archived channel,
    or unarchiving one that is not, is 409; a DM and the workspace's general channel are
    never archived (403). Announced as channel_archived or channel_unarchived `{channel,
    userId}` to whoever sees the channel, as channel_changed is."""
    channel, membership = access.visible_channel(channel_id, caller.user_id)
    if channel.type in ("dm", "group_dm"):
        raise Forbidden("a direct message cannot be archived")
    if not _may_archive(caller, channel, membership is not None):
        raise Forbidden("only the channel's creator or a workspace admin may archive it")
    workspace = workspace_store.get_workspace(channel.workspaceId)
    if archived and workspace is not None and workspace.generalChannelId == channel_id:
        raise CantArchiveGeneral("the workspace's general channel cannot be archived")
    if not channel_store.set_archived(channel_id, archived):
        if archived:
            raise AlreadyArchived("the channel is already archived")
        raise NotArchived("the channel is not archived")
    channel = dataclasses.replace(channel, isArchived=archived)
    event = {
        "type": "channel_archived" if archived else "channel_unarchived",
        "channel": channel_view(channel, False).wire(),
        "userId": caller.user_id,
    }
    if channel.type == "public":
        publisher.to_workspace(channel.workspaceId, event)
    else:
        publisher.to_channel(channel.workspaceId, channel_id, event)
    return channel_view(channel, membership is not None)


# The scope that lets an app's bot archive a channel of each kind, as Slack names them.
_MANAGE_SCOPES = {"public": "channels:manage", "private": "groups:write"}


def _may_archive(caller: Caller, channel: ChannelRecord, is_member: bool) -> bool:
    """The channel's creator or a workspace admin; an app's bot in the channel with the
    scope that manages its kind, as Slack lets one."""
    if caller.is_bot:
        if not is_member:
            raise NotInChannel("the bot is not in this channel")
        if _MANAGE_SCOPES.get(channel.type) in caller.scopes:
            return True
    return channel.createdBy == caller.user_id or access.is_admin(
        channel.workspaceId, caller.user_id
    )


def open_direct_message(
    caller: Caller, workspace_id: str, user_ids: list[str], publisher: Publisher
) -> Channel:
    """The DM (one other user) or group DM (2 to 8 others) of exactly this set of users."""
    access.workspace_member(workspace_id, caller.user_id)
    others = sorted(set(user_ids) - {caller.user_id})
    if not others:
        raise InvalidRequest("a direct message needs at least one other user")
    if len(others) > MAX_GROUP_DM_OTHERS:
        raise InvalidRequest(f"a group DM takes at most {MAX_GROUP_DM_OTHERS} other users")
    for user_id in others:
        if workspace_store.get_member(workspace_id, user_id) is None:
            raise NotFound(f"user {user_id} is not a member of this workspace")
    members = sorted([caller.user_id, *others])
    digest = hashlib.sha256("\n".join(members).encode()).hexdigest()
    candidate = ChannelRecord(
        channelId=new_id("D"),
        workspaceId=workspace_id,
        name="dm-" + digest[:12],
        type="dm" if len(others) == 1 else "group_dm",
        topic="",
        createdBy=caller.user_id,
        createdAt=iso_now(),
        memberCount=len(members),
    )
    channel = channel_store.open_direct_message(candidate, members, digest)
    if channel.channelId == candidate.channelId:
        event = {"type": "channel_created", "channel": channel_view(channel, True).wire()}
        publisher.to_users(workspace_id, members, event)
    return channel_view(channel, True)
