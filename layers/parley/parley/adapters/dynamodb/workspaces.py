"""Workspaces, their members and invites."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import PutError

from parley.adapters.dynamodb.base import (
    batch_get,
    condition_failed,
    conditional,
    get_or_none,
    query_page,
    transaction,
)
from parley.adapters.dynamodb.channels import channel_item, channel_items_for_creation
from parley.adapters.dynamodb.items import (
    ChannelItem,
    ChannelNameItem,
    InviteItem,
    WorkspaceItem,
    WorkspaceMemberItem,
)
from parley.adapters.dynamodb.records import to_item, to_record
from parley.domain.ports.workspaces import InviteCodeTaken
from parley.domain.records import (
    ChannelRecord,
    InviteRecord,
    WorkspaceMemberRecord,
    WorkspaceRecord,
)


def workspace_key(workspace_id: str) -> tuple[str, str]:
    return f"WS#{workspace_id}", "WS"


def member_key(workspace_id: str, user_id: str) -> tuple[str, str]:
    return f"WS#{workspace_id}", f"MEMBER#{user_id}"


def invite_key(code: str) -> tuple[str, str]:
    return f"INVITE#{code}", "INVITE"


def member_item(member: WorkspaceMemberRecord) -> WorkspaceMemberItem:
    """The membership's item, also under its user in GSI1."""
    return to_item(
        member,
        WorkspaceMemberItem,
        *member_key(member.workspaceId, member.userId),
        GSI1PK=f"USER#{member.userId}",
        GSI1SK=f"WS#{member.workspaceId}",
    )


def new_member(workspace_id: str, user_id: str, role: str, joined_at: str) -> WorkspaceMemberItem:
    return member_item(
        WorkspaceMemberRecord(
            workspaceId=workspace_id, userId=user_id, role=role, joinedAt=joined_at
        )
    )


def create_workspace(
    workspace: WorkspaceRecord, admin: WorkspaceMemberRecord, general: ChannelRecord
) -> None:
    """The workspace, its first admin and its `general` channel, all or nothing."""
    claim, creator = channel_items_for_creation(general, admin.userId, admin.joinedAt)
    with transaction() as tx:
        tx.save(
            to_item(workspace, WorkspaceItem, *workspace_key(workspace.workspaceId)),
            condition=WorkspaceItem.PK.does_not_exist(),
        )
        tx.save(member_item(admin))
        tx.save(channel_item(general), condition=ChannelItem.PK.does_not_exist())
        tx.save(claim, condition=ChannelNameItem.PK.does_not_exist())
        tx.save(creator)


def get_workspace(workspace_id: str) -> WorkspaceRecord | None:
    item = get_or_none(WorkspaceItem, *workspace_key(workspace_id))
    return to_record(item, WorkspaceRecord) if item is not None else None


def get_workspaces(workspace_ids: list[str]) -> dict[str, WorkspaceRecord]:
    items = batch_get(WorkspaceItem, [workspace_key(w) for w in workspace_ids])
    return {item.workspaceId: to_record(item, WorkspaceRecord) for item in items}


def get_member(workspace_id: str, user_id: str) -> WorkspaceMemberRecord | None:
    item = get_or_none(WorkspaceMemberItem, *member_key(workspace_id, user_id))
    return to_record(item, WorkspaceMemberRecord) if item is not None else None


def memberships_of(user_id: str) -> list[WorkspaceMemberRecord]:
    query = WorkspaceMemberItem.gsi1.query(
        f"USER#{user_id}", WorkspaceMemberItem.GSI1SK.startswith("WS#")
    )
    return [to_record(item, WorkspaceMemberRecord) for item in query]


def list_members(
    workspace_id: str, limit: int, cursor: str | None
) -> tuple[list[WorkspaceMemberRecord], str | None]:
    items, next_cursor = query_page(
        WorkspaceMemberItem,
        f"WS#{workspace_id}",
        WorkspaceMemberItem.SK.startswith("MEMBER#"),
        limit,
        cursor,
    )
    return [to_record(item, WorkspaceMemberRecord) for item in items], next_cursor


def all_member_ids(workspace_id: str) -> list[str]:
    query = WorkspaceMemberItem.query(
        f"WS#{workspace_id}",
        WorkspaceMemberItem.SK.startswith("MEMBER#"),
        attributes_to_get=["userId"],
    )
    return [item.userId for item in query]


def add_member(member: WorkspaceMemberRecord) -> bool:
    """Adds the member unless present; True if added."""
    item = member_item(member)
    return conditional(lambda: item.save(condition=WorkspaceMemberItem.PK.does_not_exist()))


def put_invite(invite: InviteRecord) -> None:
    """Stores the invite, kept by TTL until its expiry; InviteCodeTaken on a clash."""
    expires = datetime.fromisoformat(invite.expiresAt)
    item = to_item(invite, InviteItem, *invite_key(invite.code), ttl=expires)
    try:
        item.save(condition=InviteItem.PK.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            raise InviteCodeTaken(invite.code) from None
        raise


def get_invite(code: str) -> InviteRecord | None:
    item = get_or_none(InviteItem, *invite_key(code))
    return to_record(item, InviteRecord, code=code) if item is not None else None
