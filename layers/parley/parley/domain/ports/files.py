"""The files port: uploads and where messages share them."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import FileRecord


class NotPending(Exception):
    """The file is no longer a pending upload of this user (completed or gone meanwhile)."""


class FileRepository(Protocol):
    def create_file(self, file: FileRecord, abandoned_at: int) -> None:
        """Stores the new file and what finds it by id alone, both forgotten at
        `abandoned_at` (epoch seconds) unless it is marked ready first."""

    def find_file(self, file_id: str) -> FileRecord | None:
        """The file named by id alone, read consistently; None if there is none."""

    def get_files(self, workspace_id: str, file_ids: list[str]) -> dict[str, FileRecord]:
        """Those of the workspace's files that exist, by id."""

    def mark_ready(self, file: FileRecord) -> None:
        """pending -> ready, for its uploader only, and kept for good; NotPending if the
        file is no longer pending (completed meanwhile, or gone)."""

    def forget_pending(self, file: FileRecord) -> None:
        """Deletes a refused or expired upload, only while it is still pending (else
        NotPending)."""

    def shared_in(self, file_id: str) -> set[str]:
        """The channels where a message shares the file."""


store: FileRepository = port("files")
