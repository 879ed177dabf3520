"""User groups (API.md, "Team features"): a workspace's named sets of people, such as
@oncall, managed by its admins and mentioned as one with `<!subteam^GID>`.

A mention of a group mentions each of its members who can see the channel: the group is
expanded into the message's `mentions` when it is posted or edited (one BatchGetItem for
its groups), and from there mention counts and notifications work as for `<@user>`, which
count only the channel's members. A later change to the group changes no message.

A disabled group (Slack's usergroups.disable) keeps its handle and its users, is left out
of the workspace's list unless asked for, and mentions nobody until it is enabled again.
"""

from __future__ import annotations

import re
from dataclasses import replace

from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.objects import UserGroup
from parley.domain.ports.usergroups import HandleTaken
from parley.domain.ports.usergroups import store as group_store
from parley.domain.records import UserGroupRecord
from parley.errors import Conflict, InvalidRequest, NotFound
from parley.ids import iso_now, new_id

HANDLE = re.compile(r"^[a-z0-9._-]{1,80}$")
MAX_USERS = 1000


def view(group: UserGroupRecord) -> UserGroup:
    return UserGroup(
        id=group.usergroupId,
        handle=group.handle,
        name=group.name,
        userIds=list(group.userIds),
        disabledAt=group.disabledAt,
        disabledBy=group.disabledBy,
    )


def _checked(handle: str, name: str, user_ids: list[str]) -> tuple[str, str, tuple[str, ...]]:
    if not HANDLE.match(handle):
        raise InvalidRequest("handle must be 1 to 80 of a-z, 0-9, '-', '_' and '.'")
    if not name.strip() or len(name) > 255:
        raise InvalidRequest("name must be 1 to 255 characters")
    unique = tuple(dict.fromkeys(user_ids))
    if len(unique) > MAX_USERS:
        raise InvalidRequest(f"a user group holds at most {MAX_USERS} users")
    return handle, name, unique


def _admin(caller: Caller, workspace_id: str) -> None:
    """Workspace admins; an app's bot with `usergroups:write`, as Slack lets one."""
    if caller.is_bot and "usergroups:write" in caller.scopes:
        access.workspace_member(workspace_id, caller.user_id)
        return
    access.workspace_admin(workspace_id, caller.user_id)


def create(
    caller: Caller, workspace_id: str, *, handle: str, name: str, user_ids: list[str]
) -> UserGroup:
    _admin(caller, workspace_id)
    handle, name, users = _checked(handle, name, user_ids)
    group = UserGroupRecord(
        usergroupId=new_id("S"),
        workspaceId=workspace_id,
        handle=handle,
        name=name,
        userIds=users,
        createdBy=caller.user_id,
        createdAt=iso_now(),
    )
    try:
        group_store.create(group)
    except HandleTaken:
        raise Conflict(f"the handle {handle} is taken in this workspace") from None
    return view(group)


def list_groups(
    caller: Caller, workspace_id: str, *, include_disabled: bool = False
) -> list[UserGroup]:
    access.workspace_member(workspace_id, caller.user_id)
    found = sorted(group_store.in_workspace(workspace_id), key=lambda g: g.handle)
    return [view(g) for g in found if include_disabled or g.disabledAt is None]


def _found(caller: Caller, usergroup_id: str) -> UserGroupRecord:
    """The group, for a member of its workspace; for anyone else it does not exist."""
    group = group_store.get(usergroup_id)
    if group is None or not access.is_member(group.workspaceId, caller.user_id):
        raise NotFound("user group not found")
    return group


def get(caller: Caller, usergroup_id: str, *, include_disabled: bool = True) -> UserGroup:
    """The group; a disabled one only with `include_disabled` (NotFound otherwise)."""
    group = _found(caller, usergroup_id)
    if group.disabledAt is not None and not include_disabled:
        raise NotFound("user group not found")
    return view(group)


def update(
    caller: Caller,
    usergroup_id: str,
    *,
    handle: str | None = None,
    name: str | None = None,
    user_ids: list[str] | None = None,
    disabled: bool | None = None,
) -> UserGroup:
    """Changes what is given; a disabled group stays disabled unless `disabled` says so."""
    before = _found(caller, usergroup_id)
    _admin(caller, before.workspaceId)
    new_handle, new_name, users = _checked(
        handle if handle is not None else before.handle,
        name if name is not None else before.name,
        user_ids if user_ids is not None else list(before.userIds),
    )
    after = replace(before, handle=new_handle, name=new_name, userIds=users)
    if disabled and before.disabledAt is None:
        after = replace(after, disabledAt=iso_now(), disabledBy=caller.user_id)
    elif disabled is False:
        after = replace(after, disabledAt=None, disabledBy=None)
    if after == before:
        return view(before)
    try:
        group_store.update(before, after)
    except HandleTaken:
        raise Conflict(f"the handle {new_handle} is taken in this workspace") from None
    return view(after)


def disable(caller: Caller, usergroup_id: str) -> UserGroup:
    """Disables the group; a disabled one is left as it was (when and by whom)."""
    return update(caller, usergroup_id, disabled=True)


def enable(caller: Caller, usergroup_id: str) -> UserGroup:
    return update(caller, usergroup_id, disabled=False)


def delete(caller: Caller, usergroup_id: str) -> None:
    group = _found(caller, usergroup_id)
    _admin(caller, group.workspaceId)
    group_store.delete(group)


def members_of(workspace_id: str, usergroup_ids: frozenset[str]) -> frozenset[str]:
    """Everyone in these enabled groups of the workspace (disabled groups and groups of
    other workspaces are none)."""
    if not usergroup_ids:
        return frozenset()
    groups = group_store.get_many(sorted(usergroup_ids))
    return frozenset(
        u
        for g in groups
        if g.workspaceId == workspace_id and g.disabledAt is None
        for u in g.userIds
    )
