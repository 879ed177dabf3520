"""Authorization by membership. What the caller may not see does not exist (404)."""

from __future__ import annotations

from parley.domain.caller import Caller
from parley.domain.ports.channels import store as channel_store
from parley.domain.ports.workspaces import store as workspace_store
from parley.domain.records import ChannelMemberRecord, ChannelRecord, WorkspaceMemberRecord
from parley.errors import ChannelArchived, ChannelNotFound, Forbidden, NotFound, NotInChannel


def workspace_member(workspace_id: str, user_id: str) -> WorkspaceMemberRecord:
    member = workspace_store.get_member(workspace_id, user_id)
    if member is None:
        raise NotFound("workspace not found")
    return member


def workspace_admin(workspace_id: str, user_id: str) -> WorkspaceMemberRecord:
    """The caller's membership, for what only admins may do (403 for members, 404 else)."""
    member = workspace_member(workspace_id, user_id)
    if member.role != "admin":
        raise Forbidden("only workspace admins may do this")
    return member


def is_member(workspace_id: str, user_id: str) -> bool:
    """Whether the user belongs to the workspace (a bot too), as a WebSocket connection to
    it must."""
    return workspace_store.get_member(workspace_id, user_id) is not None


def _sees_public_channels(workspace_id: str, user_id: str) -> bool:
    """Public channels are open to the workspace's members, its bots too (as Slack's
    conversations.list and conversations.info show them to a bot); a bot reads their
    history only once in them (`history_channel`)."""
    return is_member(workspace_id, user_id)


def visible_channel(
    channel_id: str, user_id: str
) -> tuple[ChannelRecord, ChannelMemberRecord | None]:
    """The channel and the caller's membership, if the caller may see the channel.

    Public channels are visible to the workspace's members; every other kind only to its
    own members.
    """
    channel = channel_store.get_channel(channel_id)
    if channel is None:
        raise ChannelNotFound("channel not found")
    membership = channel_store.get_membership(channel_id, user_id)
    if membership is not None:
        return channel, membership
    if channel.type == "public" and _sees_public_channels(channel.workspaceId, user_id):
        return channel, None
    raise ChannelNotFound("channel not found")


def history_channel(
    channel_id: str, caller: Caller
) -> tuple[ChannelRecord, ChannelMemberRecord | None]:
    """The channel whose messages the caller may read: any channel the caller sees, but
    for a bot only one it is in (Slack's `not_in_channel`)."""
    channel, membership = visible_channel(channel_id, caller.user_id)
    if membership is None and caller.is_bot:
        raise NotInChannel("the bot is not in this channel: join it first")
    return channel, membership


def channel_member(
    channel_id: str, user_id: str, workspace_id: str | None = None
) -> tuple[ChannelRecord, ChannelMemberRecord]:
    """The channel, for a caller who must be in it (to post, to add members).

    `workspace_id` confines a WebSocket connection to the workspace it was opened for.
    """
    channel, membership = visible_channel(channel_id, user_id)
    if workspace_id is not None and channel.workspaceId != workspace_id:
        raise ChannelNotFound("channel not found")
    if membership is None:
        raise NotInChannel("join the channel first")
    return channel, membership


def channel_audience(
    channel_id: str, user_id: str, workspace_id: str | None = None
) -> tuple[ChannelRecord, list[str]]:
    """The channel and its members' ids, for a caller who must be in it (to post).

    The same answers as `channel_member`, from one Query instead of two GetItems, and the
    member list it returns is the fan-out's audience, so a post needs no second look-up.
    """
    channel, member_ids = channel_store.channel_with_members(channel_id)
    if channel is None or (workspace_id is not None and channel.workspaceId != workspace_id):
        raise ChannelNotFound("channel not found")
    if user_id in member_ids:
        return channel, member_ids
    if channel.type == "public" and _sees_public_channels(channel.workspaceId, user_id):
        raise NotInChannel("join the channel first")
    raise ChannelNotFound("channel not found")


def sees_any_channel(channel_ids: set[str], user_id: str) -> bool:
    """Whether the user may see at least one of these channels (all of one workspace):
    two BatchGets and a GetItem, however many channels."""
    if not channel_ids:
        return False
    wanted = sorted(channel_ids)
    if channel_store.get_memberships(wanted, user_id):
        return True
    public = [c for c in channel_store.get_channels(wanted) if c.type == "public"]
    return bool(public) and workspace_store.get_member(public[0].workspaceId, user_id) is not None


def is_admin(workspace_id: str, user_id: str) -> bool:
    member = workspace_store.get_member(workspace_id, user_id)
    return member is not None and member.role == "admin"


def not_archived(channel: ChannelRecord) -> ChannelRecord:
    """The channel, for a write that an archived channel refuses (409): new messages and
    edits, reactions, pins, bookmarks, members, its name and topic. Its history stays
    readable and searchable, and leaving it, reading it and deleting in it still work."""
    if channel.isArchived:
        raise ChannelArchived("the channel is archived")
    return channel
