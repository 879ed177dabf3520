"""Slack imports: the import's item, its chunks' markers and its plan's maps, and the
history an import writes (messages in batches, thread counts, read markers)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Literal

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import size
from pynamodb.expressions.update import Action

from parley.adapters.dynamodb.base import (
    batch_get,
    cancelled_by_condition,
    conditional,
    get_or_none,
    transaction,
)
from parley.adapters.dynamodb.channels import channel_key, channel_record, member_key
from parley.adapters.dynamodb.items import (
    ChannelItem,
    ChannelMemberItem,
    ChannelNameItem,
    ImportChunkItem,
    ImportItem,
    ImportMapItem,
    MessageItem,
    UserItem,
)
from parley.adapters.dynamodb.messages import message_item, message_key
from parley.adapters.dynamodb.records import to_item, to_record
from parley.adapters.dynamodb.users import email_key, user_key
from parley.domain.ports.imports import ChunkCounts
from parley.domain.records import ChannelRecord, ImportRecord, MessageRecord
from parley.ids import iso_now

# A map page's JSON stays well under DynamoDB's 400 KB item (UTF-8 of ids is ASCII).
_MAP_PAGE_CHARS = 300_000
_MAP_KINDS = ("users", "channels")


def import_key(import_id: str) -> tuple[str, str]:
    return f"IMPORT#{import_id}", "IMPORT"


def chunk_key(import_id: str, chunk_id: str) -> tuple[str, str]:
    return f"IMPORT#{import_id}", f"CHUNK#{chunk_id}"


def map_key(import_id: str, kind: str, page: int) -> tuple[str, str]:
    return f"IMPORT#{import_id}", f"MAP#{kind}#{page:04d}"


def import_record(item: ImportItem) -> ImportRecord:
    return to_record(
        item,
        ImportRecord,
        size=int(item.size),
        uploadExpiresAt=int(item.uploadExpiresAt),
        objectSize=None if item.objectSize is None else int(item.objectSize),
        chunks=None if item.chunks is None else int(item.chunks),
        chunksDone=int(item.chunksDone or 0),
        users=int(item.users or 0),
        channels=int(item.channels or 0),
        messages=int(item.messages or 0),
        replies=int(item.replies or 0),
        reactions=int(item.reactions or 0),
        files=int(item.files or 0),
        invalid=int(item.invalid or 0),
        errors=tuple(str(e) for e in item.errors or ()),
    )


def create_import(record: ImportRecord) -> None:
    item = to_item(record, ImportItem, *import_key(record.importId))
    item.save(condition=ImportItem.PK.does_not_exist())


def get_import(import_id: str, consistent: bool = False) -> ImportRecord | None:
    item = get_or_none(ImportItem, *import_key(import_id), consistent=consistent)
    return import_record(item) if item is not None else None


def _set_status(import_id: str, actions: list[Action], condition: object) -> bool:
    item = ImportItem(*import_key(import_id))
    return conditional(
        lambda: item.update(actions=actions, condition=ImportItem.PK.exists() & condition)
    )


def mark_running(import_id: str) -> bool:
    return _set_status(
        import_id, [ImportItem.status.set("running")], ImportItem.status == "pending"
    )


def fail(import_id: str, reason: str) -> bool:
    return _set_status(
        import_id,
        [ImportItem.status.set("failed"), ImportItem.reason.set(reason)],
        ImportItem.status.is_in("pending", "running"),
    )


def set_planned(
    import_id: str,
    *,
    team_id: str,
    object_size: int,
    users: int,
    channels: int,
    chunks: int,
) -> None:
    _set_status(
        import_id,
        [
            ImportItem.teamId.set(team_id),
            ImportItem.objectSize.set(object_size),
            ImportItem.users.set(users),
            ImportItem.channels.set(channels),
            ImportItem.chunks.set(chunks),
        ],
        ImportItem.status == "running",
    )


def finish_if_complete(import_id: str) -> bool:
    return _set_status(
        import_id,
        [ImportItem.status.set("done")],
        (ImportItem.status == "running") & (ImportItem.chunksDone >= ImportItem.chunks),
    )


def _pages(entries: Mapping[str, str]) -> list[str]:
    pages: list[str] = []
    page: dict[str, str] = {}
    length = 2
    for key, value in entries.items():
        entry = len(key) + len(value) + 6  # quotes, colon, comma
        if page and length + entry > _MAP_PAGE_CHARS:
            pages.append(json.dumps(page, separators=(",", ":")))
            page, length = {}, 2
        page[key] = value
        length += entry
    pages.append(json.dumps(page, separators=(",", ":")))
    return pages


def save_maps(import_id: str, users: Mapping[str, str], channels: Mapping[str, str]) -> None:
    """One item per page of each map; pages left over from a longer earlier plan go."""
    stale = {
        (item.PK, item.SK)
        for item in ImportMapItem.query(
            f"IMPORT#{import_id}", ImportMapItem.SK.startswith("MAP#"), attributes_to_get=["SK"]
        )
    }
    with ImportMapItem.batch_write() as batch:
        for kind, entries in (("users", users), ("channels", channels)):
            for number, page in enumerate(_pages(entries)):
                key = map_key(import_id, kind, number)
                stale.discard(key)
                batch.save(ImportMapItem(*key, entries=page))
        for key in stale:
            batch.delete(ImportMapItem(*key))


def load_maps(import_id: str) -> tuple[dict[str, str], dict[str, str]]:
    found: dict[str, dict[str, str]] = {kind: {} for kind in _MAP_KINDS}
    query = ImportMapItem.query(
        f"IMPORT#{import_id}", ImportMapItem.SK.startswith("MAP#"), consistent_read=True
    )
    for item in query:
        kind = item.SK.split("#")[1]
        if kind in found:
            found[kind].update(json.loads(item.entries))
    return found["users"], found["channels"]


def chunk_done(import_id: str, chunk_id: str) -> bool:
    return get_or_none(ImportChunkItem, *chunk_key(import_id, chunk_id)) is not None


def complete_chunk(
    import_id: str, chunk_id: str, counts: ChunkCounts, errors: list[str], max_errors: int
) -> bool:
    """The chunk's marker (new) and its counts on the import, in one transaction; then its
    errors, while the import holds fewer than `max_errors`."""
    marker = ImportChunkItem(*chunk_key(import_id, chunk_id), doneAt=iso_now())
    added = (
        (ImportItem.messages, counts.messages),
        (ImportItem.replies, counts.replies),
        (ImportItem.reactions, counts.reactions),
        (ImportItem.files, counts.files),
        (ImportItem.invalid, counts.invalid),
    )
    actions: list[Action] = [ImportItem.chunksDone.add(1)]
    actions += [attribute.add(n) for attribute, n in added if n]
    try:
        with transaction() as tx:
            tx.save(marker, condition=ImportChunkItem.PK.does_not_exist())
            tx.update(
                ImportItem(*import_key(import_id)),
                actions=actions,
                condition=ImportItem.PK.exists(),
            )
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            return False
        raise
    if errors:
        item = ImportItem(*import_key(import_id))
        conditional(
            lambda: item.update(
                actions=[ImportItem.errors.set(ImportItem.errors.append(errors[:max_errors]))],
                condition=size(ImportItem.errors) < max_errors,
            )
        )
    return True


def named_channels(workspace_id: str) -> list[ChannelRecord]:
    """The workspace's name claims (one Query), then their channels (BatchGetItem)."""
    claims = ChannelNameItem.query(f"WS#{workspace_id}", ChannelNameItem.SK.startswith("CHNAME#"))
    found = batch_get(ChannelItem, [channel_key(claim.channelId) for claim in claims])
    return [channel_record(item) for item in found]


def ensure_user(user_id: str, name: str, email: str, kind: Literal["placeholder", "bot"]) -> bool:
    """The profile, found by email as every profile is (a placeholder's email is how a
    person who signs up claims it)."""
    by_email, user_sk = email_key(user_id, email) or (None, None)
    item = UserItem(
        *user_key(user_id),
        GSI1PK=by_email,
        GSI1SK=user_sk,
        userId=user_id,
        name=name,
        email=email,
        createdAt=iso_now(),
        imported=kind,
    )
    return conditional(lambda: item.save(condition=UserItem.PK.does_not_exist()))


def existing_messages(channel_id: str, timestamps: list[str]) -> set[str]:
    """One BatchGetItem per 100 keys, projected to the ts."""
    if not timestamps:
        return set()
    keys = list(dict.fromkeys(message_key(channel_id, ts) for ts in timestamps))
    return {item.ts for item in MessageItem.batch_get(keys, attributes_to_get=["ts"])}


def write_messages(messages: list[MessageRecord]) -> None:
    """BatchWriteItem, 25 items a request (pynamodb resends what DynamoDB leaves
    unprocessed)."""
    with MessageItem.batch_write() as batch:
        for record in messages:
            item = message_item(record)
            item.imported = True
            batch.save(item)


def recount_thread(channel_id: str, thread_ts: str, written: set[str]) -> bool:
    """The thread index's replies (their ts only, a Query per 1 MB page) with `written`;
    one conditional UpdateItem."""
    query = MessageItem.gsi1.query(f"THREAD#{channel_id}#{thread_ts}", attributes_to_get=["ts"])
    replies = {item.ts for item in query} | written
    if not replies:
        return False
    return set_thread_counts(channel_id, thread_ts, len(replies), max(replies))


def set_thread_counts(channel_id: str, thread_ts: str, count: int, latest: str) -> bool:
    """One UpdateItem of the root, only upward (a count already as high is left)."""
    root = MessageItem(*message_key(channel_id, thread_ts))
    more = (
        (MessageItem.replyCount < count)
        | MessageItem.latestReplyTs.does_not_exist()
        | (MessageItem.latestReplyTs < latest)
    )
    return conditional(
        lambda: root.update(
            actions=[
                MessageItem.replyCount.set(count),
                MessageItem.latestReplyTs.set(latest),
                MessageItem.version.add(1),
            ],
            condition=MessageItem.PK.exists() & MessageItem.threadTs.does_not_exist() & more,
        )
    )


def raise_read_markers(channel_id: str, ts: str) -> int:
    """The members (one Query per 1 MB page), then a conditional update for each whose
    marker is before `ts`."""
    query = ChannelMemberItem.query(
        f"CH#{channel_id}",
        ChannelMemberItem.SK.startswith("MEMBER#"),
        attributes_to_get=["userId", "lastReadTs"],
    )
    behind = [m.userId for m in query if (m.lastReadTs or "") < ts]
    earlier = ChannelMemberItem.lastReadTs.does_not_exist() | (ChannelMemberItem.lastReadTs < ts)

    def move(user_id: str) -> None:
        ChannelMemberItem(*member_key(channel_id, user_id)).update(
            actions=[ChannelMemberItem.lastReadTs.set(ts)],
            condition=ChannelMemberItem.PK.exists() & earlier,
        )

    return sum(conditional(functools.partial(move, user_id)) for user_id in behind)
