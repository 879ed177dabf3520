"""Files, the reference that finds a file by id, and the messages that share a file."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from parley.adapters.dynamodb.base import (
    batch_get,
    cancelled_by_condition,
    epoch,
    get_or_none,
    transaction,
)
from parley.adapters.dynamodb.items import FileItem, FileRefItem, FileShareItem
from parley.adapters.dynamodb.records import to_item, to_record
from parley.domain.ports.files import NotPending
from parley.domain.records import FileRecord


def file_key(workspace_id: str, file_id: str) -> tuple[str, str]:
    return f"WS#{workspace_id}", f"FILE#{file_id}"


def ref_key(file_id: str) -> tuple[str, str]:
    return f"FILE#{file_id}", "FILE"


def share_key(file_id: str, channel_id: str, ts: str) -> tuple[str, str]:
    return f"FILE#{file_id}", f"SHARE#{channel_id}#{ts}"


def file_record(item: FileItem) -> FileRecord:
    return to_record(
        item, FileRecord, size=int(item.size), uploadExpiresAt=int(item.uploadExpiresAt)
    )


def create_file(file: FileRecord, abandoned_at: int) -> None:
    """The file and its reference, both new and removed by TTL at `abandoned_at` unless
    completed, in one transaction (ids are random, so a clash is a bug worth a 500, not a
    retry)."""
    ttl = epoch(abandoned_at)
    item = to_item(file, FileItem, *file_key(file.workspaceId, file.fileId), ttl=ttl)
    ref = FileRefItem(*ref_key(file.fileId), workspaceId=file.workspaceId, ttl=ttl)
    with transaction() as tx:
        tx.save(item, condition=FileItem.PK.does_not_exist())
        tx.save(ref, condition=FileRefItem.PK.does_not_exist())


def find_file(file_id: str) -> FileRecord | None:
    """The file named by id alone, read consistently (completion follows creation closely)."""
    ref = get_or_none(FileRefItem, *ref_key(file_id), consistent=True)
    if ref is None:
        return None
    item = get_or_none(FileItem, *file_key(ref.workspaceId, file_id), consistent=True)
    return file_record(item) if item is not None else None


def get_files(workspace_id: str, file_ids: list[str]) -> dict[str, FileRecord]:
    found = batch_get(FileItem, [file_key(workspace_id, f) for f in file_ids])
    return {item.fileId: file_record(item) for item in found}


def mark_ready(file: FileRecord) -> None:
    """pending → ready, for its uploader only; the pending TTL goes from both items."""
    item = FileItem(*file_key(file.workspaceId, file.fileId))
    ref = FileRefItem(*ref_key(file.fileId))
    try:
        with transaction() as tx:
            tx.update(
                item,
                actions=[FileItem.status.set("ready"), FileItem.ttl.remove()],
                condition=(FileItem.status == "pending") & (FileItem.uploadedBy == file.uploadedBy),
            )
            tx.update(ref, actions=[FileRefItem.ttl.remove()], condition=FileRefItem.PK.exists())
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0) or cancelled_by_condition(error, 1):
            raise NotPending(file.fileId) from None
        raise


def forget_pending(file: FileRecord) -> None:
    """Removes a refused or expired upload's items (only while it is still pending)."""
    item = FileItem(*file_key(file.workspaceId, file.fileId))
    ref = FileRefItem(*ref_key(file.fileId))
    try:
        with transaction() as tx:
            tx.delete(item, condition=FileItem.status == "pending")
            tx.delete(ref)
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise NotPending(file.fileId) from None
        raise


def new_share(file_id: str, channel_id: str, ts: str) -> FileShareItem:
    return FileShareItem(*share_key(file_id, channel_id, ts), channelId=channel_id, ts=ts)


def shared_in(file_id: str) -> set[str]:
    """The channels where a message shares the file (one Query of the file's partition)."""
    shares = FileShareItem.query(
        f"FILE#{file_id}", FileShareItem.SK.startswith("SHARE#"), consistent_read=True
    )
    return {share.channelId for share in shares}
