"""The workspaces port: workspaces, their members and their invites."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import (
    ChannelRecord,
    InviteRecord,
    WorkspaceMemberRecord,
    WorkspaceRecord,
)


class InviteCodeTaken(Exception):
    """Another invite already has this code."""


class WorkspaceRepository(Protocol):
    def create_workspace(
        self, workspace: WorkspaceRecord, admin: WorkspaceMemberRecord, general: ChannelRecord
    ) -> None:
        """The workspace, its first admin and its `general` channel (with its name claim and
        the admin as first member), all or nothing."""

    def get_workspace(self, workspace_id: str) -> WorkspaceRecord | None:
        """The workspace; None if there is none."""

    def get_workspaces(self, workspace_ids: list[str]) -> dict[str, WorkspaceRecord]:
        """Those of the workspaces that exist, by id."""

    def get_member(self, workspace_id: str, user_id: str) -> WorkspaceMemberRecord | None:
        """The user's membership of the workspace; None if not a member."""

    def memberships_of(self, user_id: str) -> list[WorkspaceMemberRecord]:
        """Every workspace membership of the user."""

    def list_members(
        self, workspace_id: str, limit: int, cursor: str | None
    ) -> tuple[list[WorkspaceMemberRecord], str | None]:
        """One page of the workspace's memberships, and the next page's cursor."""

    def all_member_ids(self, workspace_id: str) -> list[str]:
        """Every member's id."""

    def add_member(self, member: WorkspaceMemberRecord) -> bool:
        """Adds the member unless already one; True if added."""

    def put_invite(self, invite: InviteRecord) -> None:
        """Stores a new invite, expiring at its expiresAt; InviteCodeTaken if the code is."""

    def get_invite(self, code: str) -> InviteRecord | None:
        """The invite of this code, expired too until it is swept; None if there is none."""


store: WorkspaceRepository = port("workspaces")
