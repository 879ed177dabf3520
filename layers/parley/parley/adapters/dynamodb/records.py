"""Items to records and back: the one place that knows both shapes.

A record's fields are its item's attribute names (parley.domain.records), so one generic
copy serves every flat type; lists become tuples and sets frozensets, as the records are
frozen. Messages carry maps (reactions, shared files), converted by their own functions.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from parley.adapters.dynamodb.base import Item
from parley.adapters.dynamodb.items import FileMap, MessageItem, ReactionMap
from parley.domain.records import MessageRecord, ReactionRecord, SharedFileRecord

R = TypeVar("R")
ItemT = TypeVar("ItemT", bound=Item)


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(record_type: type) -> tuple[str, ...]:
    """The record type's field names (dataclasses.fields is slow to call per item)."""
    names = _NAMES.get(record_type)
    if names is None:
        names = _NAMES[record_type] = tuple(f.name for f in fields(record_type))
    return names


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, set):
        return frozenset(value)
    return value


def to_record(item: Item, record_type: type[R], **extra: Any) -> R:
    """The record of a flat item; `extra` gives fields the item keeps in its key."""
    values = {
        name: _plain(getattr(item, name)) for name in _names(record_type) if name not in extra
    }
    return record_type(**values, **extra)


def to_item(record: object, item_type: type[ItemT], pk: str, sk: str, **extra: Any) -> ItemT:
    """An item of a record's fields (those the item type has), under its key."""
    attributes = item_type.get_attributes()
    values: dict[str, Any] = {}
    for name in _names(type(record)):
        if name not in attributes:
            continue
        value = getattr(record, name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, frozenset):
            value = set(value)
        values[name] = value
    values.update(extra)
    return item_type(pk, sk, **values)


def message_record(item: MessageItem) -> MessageRecord:
    return MessageRecord(
        channelId=item.channelId,
        workspaceId=item.workspaceId,
        ts=item.ts,
        userId=item.userId,
        text=item.text,
        createdAt=item.createdAt,
        threadTs=item.threadTs,
        replyCount=int(item.replyCount or 0),
        latestReplyTs=item.latestReplyTs,
        reactions=tuple(
            ReactionRecord(name=r.name, users=tuple(str(u) for u in r.users or ()))
            for r in item.reactions or ()
        ),
        editedTs=item.editedTs,
        clientMsgId=item.clientMsgId,
        fileIds=tuple(str(f) for f in item.fileIds) if item.fileIds is not None else None,
        files=tuple(shared_file_record(f) for f in item.files) if item.files is not None else None,
        mentions=frozenset(item.mentions) if item.mentions else None,
        broadcast=item.broadcast,
        hereUsers=frozenset(item.hereUsers) if item.hereUsers else None,
        appId=item.appId,
        subtype=item.subtype,
        blocks=item.blocks,
        version=int(item.version or 1),
    )


def shared_file_record(shared: FileMap) -> SharedFileRecord:
    return SharedFileRecord(
        fileId=shared.fileId,
        name=shared.name,
        size=int(shared.size),
        contentType=shared.contentType,
        uploadedBy=shared.uploadedBy,
        createdAt=shared.createdAt,
    )


def file_map(shared: SharedFileRecord) -> FileMap:
    return FileMap(
        fileId=shared.fileId,
        name=shared.name,
        size=shared.size,
        contentType=shared.contentType,
        uploadedBy=shared.uploadedBy,
        createdAt=shared.createdAt,
    )


def reaction_maps(reactions: tuple[ReactionRecord, ...]) -> list[ReactionMap]:
    return [ReactionMap(name=r.name, users=list(r.users)) for r in reactions]
