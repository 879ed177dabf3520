"""User groups: `UG#<gid>` / `UG`, listed through GSI1 `WS#<wid>#UG` / `<handle>`, with the
handle claimed in the workspace (`WS#<wid>` / `UGHANDLE#<handle>`) in the same transaction."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from parley.adapters.dynamodb.base import (
    batch_get,
    cancelled_by_condition,
    get_or_none,
    transaction,
)
from parley.adapters.dynamodb.items import UserGroupHandleItem, UserGroupItem
from parley.adapters.dynamodb.records import to_item, to_record
from parley.domain.ports.usergroups import HandleTaken
from parley.domain.records import UserGroupRecord


def group_key(usergroup_id: str) -> tuple[str, str]:
    return f"UG#{usergroup_id}", "UG"


def handle_key(workspace_id: str, handle: str) -> tuple[str, str]:
    return f"WS#{workspace_id}", f"UGHANDLE#{handle}"


def _item(group: UserGroupRecord) -> UserGroupItem:
    return to_item(
        group,
        UserGroupItem,
        *group_key(group.usergroupId),
        GSI1PK=f"WS#{group.workspaceId}#UG",
        GSI1SK=group.handle,
    )


def _claim(group: UserGroupRecord) -> UserGroupHandleItem:
    return UserGroupHandleItem(
        *handle_key(group.workspaceId, group.handle), usergroupId=group.usergroupId
    )


def create(group: UserGroupRecord) -> None:
    try:
        with transaction() as tx:
            tx.save(_claim(group), condition=UserGroupHandleItem.PK.does_not_exist())
            tx.save(_item(group), condition=UserGroupItem.PK.does_not_exist())
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise HandleTaken(group.handle) from None
        raise


def get(usergroup_id: str) -> UserGroupRecord | None:
    item = get_or_none(UserGroupItem, *group_key(usergroup_id), consistent=True)
    return to_record(item, UserGroupRecord) if item is not None else None


def get_many(usergroup_ids: list[str]) -> list[UserGroupRecord]:
    found = batch_get(UserGroupItem, [group_key(g) for g in dict.fromkeys(usergroup_ids)])
    return [to_record(item, UserGroupRecord) for item in found]


def in_workspace(workspace_id: str) -> list[UserGroupRecord]:
    query = UserGroupItem.gsi1.query(f"WS#{workspace_id}#UG")
    return [to_record(item, UserGroupRecord) for item in query]


def update(before: UserGroupRecord, after: UserGroupRecord) -> None:
    try:
        with transaction() as tx:
            if after.handle != before.handle:
                tx.save(_claim(after), condition=UserGroupHandleItem.PK.does_not_exist())
                tx.delete(_claim(before))
            tx.save(_item(after), condition=UserGroupItem.PK.exists())
    except TransactWriteError as error:
        # pynamodb sends a transaction's deletes before its puts: the new claim is second.
        if after.handle != before.handle and cancelled_by_condition(error, 1):
            raise HandleTaken(after.handle) from None
        raise


def delete(group: UserGroupRecord) -> None:
    with transaction() as tx:
        tx.delete(_item(group))
        tx.delete(_claim(group))
