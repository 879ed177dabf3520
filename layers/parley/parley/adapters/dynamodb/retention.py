"""Retention policies (`WS#<wid>` or `CH#<cid>` / `RETENTION`, all of them in the sparse GSI1
partition `RETENTION`) and the sweep's reads and deletes.

Deletes are BatchWriteItem requests of 25 keys sent by hand rather than through pynamodb's
batch_write: its retry of unprocessed keys has no jitter, and the sweep of a large channel
is exactly the load that leaves keys unprocessed (docs/decisions.md).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from typing import Any

from parley.adapters.dynamodb.base import Item, batch_get, client
from parley.adapters.dynamodb.files import file_key, ref_key, share_key
from parley.adapters.dynamodb.items import (
    ChannelNameItem,
    DirectMessageItem,
    FileItem,
    FileShareItem,
    MessageItem,
    PinItem,
    RetentionItem,
)
from parley.adapters.dynamodb.messages import message_key
from parley.adapters.dynamodb.pins import pin_key
from parley.domain.records import ExpiredMessage, RetentionDeletion, RetentionRecord

INDEX_PARTITION = "RETENTION"
BATCH_KEYS = 25  # BatchWriteItem's most requests a call
_ATTEMPTS = 8
_BACKOFF_BASE_S = 0.05
_BACKOFF_CAP_S = 2.0
_MESSAGE_FIELDS = ["ts", "threadTs", "replyCount", "fileIds", "latestReplyTs"]

Key = tuple[str, str]


def policy_key(workspace_id: str, channel_id: str | None) -> Key:
    return (f"CH#{channel_id}", "RETENTION") if channel_id else (f"WS#{workspace_id}", "RETENTION")


def _index_sort_key(workspace_id: str, channel_id: str | None) -> str:
    return f"{workspace_id}#{channel_id or ''}"


def _record(item: RetentionItem) -> RetentionRecord:
    return RetentionRecord(
        workspaceId=item.workspaceId,
        channelId=item.channelId,
        days=int(item.days) if item.days is not None else None,
        setBy=item.setBy,
        setAt=item.setAt,
    )


def put_policy(policy: RetentionRecord) -> None:
    RetentionItem(
        *policy_key(policy.workspaceId, policy.channelId),
        GSI1PK=INDEX_PARTITION,
        GSI1SK=_index_sort_key(policy.workspaceId, policy.channelId),
        workspaceId=policy.workspaceId,
        channelId=policy.channelId,
        days=policy.days,
        setBy=policy.setBy,
        setAt=policy.setAt,
    ).save()


def remove_policy(workspace_id: str, channel_id: str | None) -> None:
    RetentionItem(*policy_key(workspace_id, channel_id)).delete()


def policies(workspace_id: str | None = None) -> list[RetentionRecord]:
    condition = RetentionItem.GSI1SK.startswith(f"{workspace_id}#") if workspace_id else None
    return [_record(item) for item in RetentionItem.gsi1.query(INDEX_PARTITION, condition)]


def policies_of(
    workspace_id: str, channel_id: str
) -> tuple[RetentionRecord | None, RetentionRecord | None]:
    found = {
        item.PK: _record(item)
        for item in batch_get(
            RetentionItem, [policy_key(workspace_id, None), policy_key(workspace_id, channel_id)]
        )
    }
    return found.get(f"WS#{workspace_id}"), found.get(f"CH#{channel_id}")


def workspace_channels(workspace_id: str) -> list[str]:
    named = ChannelNameItem.query(
        f"WS#{workspace_id}",
        ChannelNameItem.SK.startswith("CHNAME#"),
        attributes_to_get=["channelId"],
    )
    direct = DirectMessageItem.query(
        f"WS#{workspace_id}",
        DirectMessageItem.SK.startswith("DM#"),
        attributes_to_get=["channelId"],
    )
    return list(dict.fromkeys([*(c.channelId for c in named), *(d.channelId for d in direct)]))


def _expired(item: MessageItem) -> ExpiredMessage:
    return ExpiredMessage(
        ts=item.ts,
        threadTs=item.threadTs,
        replyCount=int(item.replyCount or 0),
        fileIds=tuple(str(file_id) for file_id in item.fileIds or ()),
        latestReplyTs=item.latestReplyTs,
    )


def expired_page(
    channel_id: str, cutoff_ts: str, after_ts: str | None, limit: int
) -> list[ExpiredMessage]:
    query = MessageItem.query(
        f"CH#{channel_id}",
        MessageItem.SK.between(f"MSG#{after_ts}" if after_ts else "MSG#", f"MSG#{cutoff_ts}"),
        limit=limit + (1 if after_ts else 0),
        page_size=limit + (1 if after_ts else 0),
        attributes_to_get=_MESSAGE_FIELDS,
    )
    # BETWEEN is inclusive: the cursor's own message was deleted, but it may be back in a
    # view that lags, so it is dropped here rather than counted on.
    return [_expired(item) for item in query if item.ts != after_ts][:limit]


def thread_replies(channel_id: str, root_ts: str) -> list[ExpiredMessage]:
    query = MessageItem.gsi1.query(
        f"THREAD#{channel_id}#{root_ts}", attributes_to_get=_MESSAGE_FIELDS
    )
    return [_expired(item) for item in query]


def pinned(channel_id: str) -> set[str]:
    query = PinItem.query(
        f"CH#{channel_id}", PinItem.SK.startswith("PIN#"), attributes_to_get=["ts"]
    )
    return {item.ts for item in query}


def file_shares(file_id: str) -> set[tuple[str, str]]:
    query = FileShareItem.query(
        f"FILE#{file_id}",
        FileShareItem.SK.startswith("SHARE#"),
        attributes_to_get=["channelId", "ts"],
    )
    return {(item.channelId, item.ts) for item in query}


def file_objects(workspace_id: str, file_ids: list[str]) -> dict[str, str]:
    found = batch_get(FileItem, [file_key(workspace_id, file_id) for file_id in file_ids])
    return {item.fileId: item.objectKey for item in found}


def deletion_keys(deletion: RetentionDeletion) -> list[Key]:
    """The deletion's keys in the order they go: files, shares, pins, replies, roots."""
    channel, workspace = deletion.channelId, deletion.workspaceId
    keys: list[Key] = []
    for file_id in deletion.files:
        keys += [file_key(workspace, file_id), ref_key(file_id)]
    keys += [share_key(file_id, channel, ts) for file_id, ts in deletion.shares]
    keys += [pin_key(channel, ts) for ts in deletion.pins]
    keys += [message_key(channel, ts) for ts in deletion.replies]
    keys += [message_key(channel, ts) for ts in deletion.roots]
    return list(dict.fromkeys(keys))


def delete(deletion: RetentionDeletion) -> int:
    keys = deletion_keys(deletion)
    delete_keys(keys)
    return len(keys)


def delete_keys(
    keys: Iterable[Key],
    call: Callable[[str, dict[str, Any]], Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """BatchWriteItem DeleteRequests, 25 keys a call, in order; the keys DynamoDB leaves
    unprocessed are sent again after a full-jitter backoff, up to _ATTEMPTS times."""
    send = call or client()._make_api_call
    table = Item.Meta.table_name
    ordered = list(keys)
    for start in range(0, len(ordered), BATCH_KEYS):
        requests = [
            {"DeleteRequest": {"Key": {"PK": {"S": pk}, "SK": {"S": sk}}}}
            for pk, sk in ordered[start : start + BATCH_KEYS]
        ]
        for attempt in range(_ATTEMPTS):
            answer = send("BatchWriteItem", {"RequestItems": {table: requests}})
            requests = (answer.get("UnprocessedItems") or {}).get(table) or []
            if not requests:
                break
            sleep(random.uniform(0, min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2**attempt)))  # noqa: S311 - jitter, not a secret
        else:
            raise RuntimeError(f"DynamoDB left {len(requests)} deletes unprocessed")
