"""The user groups port: a workspace's named sets of people, mentioned as one."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import UserGroupRecord


class HandleTaken(Exception):
    """Another user group of the workspace has the handle."""


class UserGroupRepository(Protocol):
    def create(self, group: UserGroupRecord) -> None:
        """Stores a new group with its handle's claim, in one transaction; HandleTaken."""

    def get(self, usergroup_id: str) -> UserGroupRecord | None:
        """The group; None if there is none."""

    def get_many(self, usergroup_ids: list[str]) -> list[UserGroupRecord]:
        """Those of these groups that exist (one BatchGetItem per 100)."""

    def in_workspace(self, workspace_id: str) -> list[UserGroupRecord]:
        """The workspace's groups, by handle."""

    def update(self, before: UserGroupRecord, after: UserGroupRecord) -> None:
        """Replaces the group (and moves its handle's claim if the handle changed);
        HandleTaken."""

    def delete(self, group: UserGroupRecord) -> None:
        """Removes the group and its handle's claim."""


store: UserGroupRepository = port("usergroups")
