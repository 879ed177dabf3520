"""Workspaces: creating, listing, inviting, joining."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.channels import new_channel
from parley.domain.objects import Workspace
from parley.domain.ports import Publisher
from parley.domain.ports.channels import store as channel_store
from parley.domain.ports.users import store as user_store
from parley.domain.ports.workspaces import InviteCodeTaken
from parley.domain.ports.workspaces import store as workspace_store
from parley.domain.records import InviteRecord, WorkspaceMemberRecord, WorkspaceRecord
from parley.domain.users import users_by_id
from parley.domain.views import user_view, workspace_view
from parley.edge.schemas import CreateWorkspace, Invite, WorkspaceMember
from parley.errors import Conflict, NotFound, UserNotFound
from parley.ids import iso_now, new_id, new_invite_code

INVITE_LIFETIME = timedelta(days=7)
GENERAL = "general"


def create_workspace(caller: Caller, body: CreateWorkspace) -> Workspace:
    """The caller becomes admin; a public `general` channel is created and joined."""
    now = iso_now()
    workspace_id = new_id("W")
    general = new_channel(
        workspace_id,
        name=GENERAL,
        kind="public",
        topic="",
        created_by=caller.user_id,
        created_at=now,
    )
    workspace = WorkspaceRecord(
        workspaceId=workspace_id,
        name=body.name,
        createdBy=caller.user_id,
        createdAt=now,
        generalChannelId=general.channelId,
    )
    admin = WorkspaceMemberRecord(
        workspaceId=workspace_id, userId=caller.user_id, role="admin", joinedAt=now
    )
    workspace_store.create_workspace(workspace, admin, general)
    return workspace_view(workspace, "admin")


def list_workspaces(caller: Caller) -> list[Workspace]:
    memberships = workspace_store.memberships_of(caller.user_id)
    found = workspace_store.get_workspaces([m.workspaceId for m in memberships])
    views = [
        workspace_view(found[m.workspaceId], m.role) for m in memberships if m.workspaceId in found
    ]
    return sorted(views, key=lambda w: (w.createdAt, w.id))


def get_workspace(caller: Caller, workspace_id: str) -> Workspace:
    member = access.workspace_member(workspace_id, caller.user_id)
    workspace = workspace_store.get_workspace(workspace_id)
    if workspace is None:
        raise NotFound("workspace not found")
    return workspace_view(workspace, member.role)


def create_invite(caller: Caller, workspace_id: str) -> Invite:
    access.workspace_member(workspace_id, caller.user_id)
    now = datetime.now(UTC)
    expires = now + INVITE_LIFETIME
    invite = InviteRecord(
        code=new_invite_code(),
        workspaceId=workspace_id,
        createdBy=caller.user_id,
        createdAt=iso_now(),
        expiresAt=expires.isoformat(timespec="seconds").replace("+00:00", "Z"),
    )
    try:
        workspace_store.put_invite(invite)
    except InviteCodeTaken:
        raise Conflict("invite code collision, try again") from None
    return Invite(code=invite.code, expiresAt=invite.expiresAt)


def accept_invite(caller: Caller, code: str, publisher: Publisher) -> Workspace:
    """Joins the workspace and its `general` channel; accepting twice changes nothing."""
    invite = workspace_store.get_invite(code)
    if invite is None or invite.expiresAt < iso_now():
        raise NotFound("invite not found or expired")
    workspace = workspace_store.get_workspace(invite.workspaceId)
    if workspace is None:
        raise NotFound("invite not found or expired")
    existing = workspace_store.get_member(workspace.workspaceId, caller.user_id)
    if existing is not None:
        return workspace_view(workspace, existing.role)
    now = iso_now()
    workspace_store.add_member(
        WorkspaceMemberRecord(
            workspaceId=workspace.workspaceId, userId=caller.user_id, role="member", joinedAt=now
        )
    )
    general = channel_store.get_channel(workspace.generalChannelId)
    if general is not None and channel_store.add_channel_members(general, [caller.user_id], now):
        publisher.to_channel(
            workspace.workspaceId,
            general.channelId,
            {
                "type": "member_joined_channel",
                "channelId": general.channelId,
                "userId": caller.user_id,
            },
        )
    return workspace_view(workspace, "member")


def list_members(
    caller: Caller, workspace_id: str, limit: int, cursor: str | None
) -> tuple[list[WorkspaceMember], str | None]:
    access.workspace_member(workspace_id, caller.user_id)
    items, next_cursor = workspace_store.list_members(workspace_id, limit, cursor)
    users = users_by_id([m.userId for m in items])
    members = [
        WorkspaceMember(user=user, role=item.role, isBot=bool(item.isBot))
        for user, item in zip(users, items, strict=True)
    ]
    return members, next_cursor


def get_member(caller: Caller, workspace_id: str, user_id: str) -> WorkspaceMember:
    """A member of the caller's workspace, by id (404 for anyone outside it)."""
    access.workspace_member(workspace_id, caller.user_id)
    member = workspace_store.get_member(workspace_id, user_id)
    if member is None:
        raise UserNotFound("no such member of this workspace")
    (user,) = users_by_id([user_id])
    return WorkspaceMember(user=user, role=member.role, isBot=bool(member.isBot))


def find_member_by_email(caller: Caller, workspace_id: str, email: str) -> WorkspaceMember:
    """The member of the caller's workspace with this email (case folded)."""
    access.workspace_member(workspace_id, caller.user_id)
    for item in user_store.find_by_email(email):
        member = workspace_store.get_member(workspace_id, item.userId)
        if member is not None:
            return WorkspaceMember(user=user_view(item), role=member.role, isBot=bool(member.isBot))
    raise UserNotFound("no member of this workspace has that email")
