"""Workspaces, their members and invites."""

from __future__ import annotations

from pynamodb.exceptions import PutError

from parley.adapters.dynamodb.base import (
    batch_get,
    condition_failed,
    conditional,
    get_or_none,
    query_page,
    transaction,
)
from parley.adapters.dynamodb.channels import channel_items_for_creation
from parley.adapters.dynamodb.items import (
    ChannelItem,
    ChannelNameItem,
    InviteItem,
    WorkspaceItem,
    WorkspaceMemberItem,
)
from parley.errors import Conflict


def workspace_key(workspace_id: str) -> tuple[str, str]:
    return f"WS#{workspace_id}", "WS"


def member_key(workspace_id: str, user_id: str) -> tuple[str, str]:
    return f"WS#{workspace_id}", f"MEMBER#{user_id}"


def new_member(workspace_id: str, user_id: str, role: str, joined_at: str) -> WorkspaceMemberItem:
    return WorkspaceMemberItem(
        *member_key(workspace_id, user_id),
        GSI1PK=f"USER#{user_id}",
        GSI1SK=f"WS#{workspace_id}",
        workspaceId=workspace_id,
        userId=user_id,
        role=role,
        joinedAt=joined_at,
    )


def create_workspace(
    workspace: WorkspaceItem, admin: WorkspaceMemberItem, general: ChannelItem
) -> None:
    """The workspace, its first admin and its `general` channel, all or nothing."""
    claim, creator = channel_items_for_creation(general, admin.userId, admin.joinedAt)
    with transaction() as tx:
        tx.save(workspace, condition=WorkspaceItem.PK.does_not_exist())
        tx.save(admin)
        tx.save(general, condition=ChannelItem.PK.does_not_exist())
        tx.save(claim, condition=ChannelNameItem.PK.does_not_exist())
        tx.save(creator)


def get_workspace(workspace_id: str) -> WorkspaceItem | None:
    return get_or_none(WorkspaceItem, *workspace_key(workspace_id))


def get_workspaces(workspace_ids: list[str]) -> dict[str, WorkspaceItem]:
    items = batch_get(WorkspaceItem, [workspace_key(w) for w in workspace_ids])
    return {item.workspaceId: item for item in items}


def get_member(workspace_id: str, user_id: str) -> WorkspaceMemberItem | None:
    return get_or_none(WorkspaceMemberItem, *member_key(workspace_id, user_id))


def memberships_of(user_id: str) -> list[WorkspaceMemberItem]:
    return list(
        WorkspaceMemberItem.gsi1.query(
            f"USER#{user_id}", WorkspaceMemberItem.GSI1SK.startswith("WS#")
        )
    )


def list_members(
    workspace_id: str, limit: int, cursor: str | None
) -> tuple[list[WorkspaceMemberItem], str | None]:
    return query_page(
        WorkspaceMemberItem,
        f"WS#{workspace_id}",
        WorkspaceMemberItem.SK.startswith("MEMBER#"),
        limit,
        cursor,
    )


def all_member_ids(workspace_id: str) -> list[str]:
    query = WorkspaceMemberItem.query(
        f"WS#{workspace_id}",
        WorkspaceMemberItem.SK.startswith("MEMBER#"),
        attributes_to_get=["userId"],
    )
    return [item.userId for item in query]


def add_member(member: WorkspaceMemberItem) -> bool:
    """Adds the member unless present; True if added."""
    return conditional(lambda: member.save(condition=WorkspaceMemberItem.PK.does_not_exist()))


def put_invite(invite: InviteItem) -> None:
    try:
        invite.save(condition=InviteItem.PK.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            raise Conflict("invite code collision, try again") from None
        raise


def get_invite(code: str) -> InviteItem | None:
    return get_or_none(InviteItem, f"INVITE#{code}", "INVITE")
