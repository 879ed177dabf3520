"""Files: presigned uploads straight to S3, the check that makes an upload ready, sharing in
messages, and presigned downloads for those who may see a file.

A file is visible to its uploader, and to whoever may see a channel where a message shares
it (shares are written and deleted with their messages). Everyone else gets a 404.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.filenames import content_disposition, display_name, object_key
from parley.domain.objects import File, UploadForm
from parley.domain.ports.files import NotPending
from parley.domain.ports.files import store as file_store
from parley.domain.records import FileRecord
from parley.domain.views import file_view
from parley.errors import Conflict, InvalidRequest, NotFound, TooLarge
from parley.ids import iso_now, new_id
from parley.observability import MetricUnit, logger, metrics

if TYPE_CHECKING:
    from parley.edge.schemas import CreateFileUpload

UPLOAD_SECONDS = 5 * 60
DOWNLOAD_SECONDS = 15 * 60
# A pending upload is forgotten after a day, when the bucket's lifecycle rule expires its
# object (S3 lifecycle counts in days; one is its shortest).
ABANDONED_AFTER_SECONDS = 24 * 3600


class StoredObject(Protocol):
    size: int
    content_type: str


class FileBucket(Protocol):
    """The port to the files bucket (parley.adapters.s3.S3FileBucket in Lambda)."""

    def upload_form(
        self, key: str, content_type: str, size: int, expires_in: int
    ) -> tuple[str, dict[str, str]]: ...

    def download_url(self, key: str, disposition: str, expires_in: int) -> str: ...

    def stat(self, key: str) -> StoredObject | None: ...

    def mark_ready(self, key: str) -> None: ...

    def remove(self, key: str) -> None: ...


@dataclass(frozen=True)
class Download:
    file: File
    url: str


def start_upload(
    caller: Caller,
    workspace_id: str,
    body: CreateFileUpload,
    bucket: FileBucket,
    max_bytes: int,
) -> tuple[File, UploadForm]:
    """A pending file and the presigned POST that uploads exactly it: this key, this type,
    this size, for five minutes. A declared size over the limit is refused before anything
    is written."""
    access.workspace_member(workspace_id, caller.user_id)
    if body.size > max_bytes:
        raise TooLarge(f"the file is {body.size} bytes; the limit is {max_bytes}")
    name = display_name(body.name)
    if body.channelId is not None:
        # Uploading for a channel one cannot post in is refused now, not after the upload.
        access.channel_member(body.channelId, caller.user_id, workspace_id)
    file_id = new_id("F")
    now = int(time.time())
    item = FileRecord(
        fileId=file_id,
        workspaceId=workspace_id,
        name=name,
        size=body.size,
        contentType=body.contentType.lower(),
        status="pending",
        uploadedBy=caller.user_id,
        createdAt=iso_now(),
        objectKey=object_key(workspace_id, file_id, name),
        uploadExpiresAt=now + UPLOAD_SECONDS,
        channelId=body.channelId,
    )
    file_store.create_file(item, now + ABANDONED_AFTER_SECONDS)
    url, fields = bucket.upload_form(item.objectKey, item.contentType, body.size, UPLOAD_SECONDS)
    metrics.add_metric("FileUploadStarted", MetricUnit.Count, 1)
    expires_at = datetime.fromtimestamp(item.uploadExpiresAt, UTC)
    return file_view(item), UploadForm(
        url=url, fields=fields, expiresAt=expires_at.isoformat().replace("+00:00", "Z")
    )


def complete_upload(caller: Caller, file_id: str, bucket: FileBucket) -> File:
    """Checks the uploaded object against what was declared and marks the file ready.

    Only the uploader may complete; for anyone else the file does not exist. An object of
    another size or type is removed with its file (S3 enforces the POST policy, but the
    check does not rely on it: moto enforces none). Completing twice returns the file.
    """
    file = file_store.find_file(file_id)
    if file is None or file.uploadedBy != caller.user_id:
        raise NotFound("file not found")
    if file.status == "ready":
        return file_view(file)
    stored = bucket.stat(file.objectKey)
    if stored is None:
        if time.time() > file.uploadExpiresAt:
            _forget(file)
            raise Conflict("the upload expired before the file arrived; start a new upload")
        raise Conflict("nothing has been uploaded for this file yet")
    problem = _mismatch(file, stored)
    if problem is not None:
        bucket.remove(file.objectKey)
        _forget(file)
        metrics.add_metric("FileUploadRefused", MetricUnit.Count, 1)
        logger.warning("upload refused", extra={"fileId": file_id, "problem": problem})
        raise InvalidRequest(f"the upload does not match the file: {problem}")
    bucket.mark_ready(file.objectKey)
    try:
        file_store.mark_ready(file)
    except NotPending:
        # A concurrent completion got there first.
        again = file_store.find_file(file_id)
        if again is None or again.status != "ready":
            raise NotFound("file not found") from None
        return file_view(again)
    metrics.add_metric("FileUploaded", MetricUnit.Count, 1)
    metrics.add_metric("FileUploadedBytes", MetricUnit.Bytes, file.size)
    return file_view(dataclasses.replace(file, status="ready"))


def _mismatch(file: FileRecord, stored: StoredObject) -> str | None:
    if stored.size != file.size:
        return f"{stored.size} bytes arrived, {file.size} were declared"
    if stored.content_type.lower() != file.contentType:
        return f"its type is {stored.content_type or 'missing'}, {file.contentType} was declared"
    return None


def _forget(file: FileRecord) -> None:
    with contextlib.suppress(NotPending):  # completed meanwhile: nothing to forget
        file_store.forget_pending(file)


def download(caller: Caller, file_id: str, bucket: FileBucket) -> Download:
    """The file and a presigned GET (15 minutes) that saves it under its name."""
    file = file_store.find_file(file_id)
    if file is None or not _may_see(file, caller.user_id):
        raise NotFound("file not found")
    if file.status != "ready":  # only its uploader sees a pending file
        raise Conflict("the upload is not complete")
    url = bucket.download_url(file.objectKey, content_disposition(file.name), DOWNLOAD_SECONDS)
    return Download(file=file_view(file), url=url)


def _may_see(file: FileRecord, user_id: str) -> bool:
    if file.uploadedBy == user_id:
        return True
    return file.status == "ready" and access.sees_any_channel(
        file_store.shared_in(file.fileId), user_id
    )


def files_to_share(caller: Caller, workspace_id: str, file_ids: list[str]) -> list[FileRecord]:
    """The files a message of `workspace_id` may share, in the order given, without repeats.

    Each must be a file of that workspace that the sender may see (sharing must not widen
    what the sender can reach) and be ready. Ready is final (no route makes a file pending
    again), so the check needs no condition in the message's transaction.
    """
    wanted = list(dict.fromkeys(file_ids))
    found = file_store.get_files(workspace_id, wanted)
    for file_id in wanted:
        file = found.get(file_id)
        if file is None or not _may_see(file, caller.user_id):
            raise NotFound(f"file {file_id} not found")
        if file.status != "ready":
            raise Conflict(f"file {file_id} is not uploaded yet; complete its upload first")
    return [found[file_id] for file_id in wanted]
