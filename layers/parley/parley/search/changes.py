"""What the index must learn from one change of a message item. Pure code.

Every change of a message bumps its integer `version`; the index keeps the highest version
it has seen (OpenSearch external versioning), so a late or repeated change never
overwrites a newer one. A delete is a tombstone one version above the last image: a late
edit of the deleted message is older than it and is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from parley.domain import blocks
from parley.streams import StreamEventName


class IndexChange(BaseModel):
    """One message's state for the index; the body of an index-queue message."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    workspaceId: str
    channelId: str
    ts: str
    version: int
    deleted: bool = False
    userId: str | None = None
    text: str | None = None  # what is searched: the message's text and its blocks' (indexed_text)
    threadTs: str | None = None
    hasFile: bool = False

    @property
    def doc_id(self) -> str:
        return f"{self.channelId}:{self.ts}"

    def document(self) -> dict[str, Any]:
        """The indexed document; a tombstone keeps only what locates it."""
        located = {
            "workspaceId": self.workspaceId,
            "channelId": self.channelId,
            "ts": self.ts,
            "sentAt": sent_at_millis(self.ts),
            "deleted": self.deleted,
        }
        if self.deleted:
            return located
        return {
            **located,
            "userId": self.userId,
            "text": self.text or "",
            "threadTs": self.threadTs,
            "hasFile": self.hasFile,
        }


def indexed_text(text: str, stored_blocks: str | None) -> str:
    """The message's text and then, a piece a line, the text of its Block Kit blocks, so a
    word that only a block shows finds the message. A piece that repeats the text (its
    fallback often does) or an earlier piece is left out: it is found already."""
    pieces = dict.fromkeys(blocks.text_of(blocks.loaded(stored_blocks) or []))
    pieces.pop(text, None)
    return "\n".join([text, *pieces] if text else pieces)


def sent_at_millis(ts: str) -> int:
    """A message ts (`1732700000.000123`) as epoch milliseconds."""
    seconds, _, micros = ts.partition(".")
    return int(seconds) * 1000 + int(micros or 0) // 1000


def day_start_millis(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp() * 1000)


def is_message_image(image: Mapping[str, Any] | None) -> bool:
    return bool(image) and str(image.get("SK", "")).startswith("MSG#")  # type: ignore[union-attr]  # bool(image) has ruled out None; mypy does not narrow through bool()


def change_from_stream(
    event_name: StreamEventName,
    new_image: Mapping[str, Any] | None,
    old_image: Mapping[str, Any] | None,
) -> IndexChange | None:
    """The index change for a stream record of the table (images already deserialized);
    None for items that are not messages."""
    if event_name == "REMOVE":
        if not is_message_image(old_image):
            return None
        assert old_image is not None
        return IndexChange(
            workspaceId=str(old_image["workspaceId"]),
            channelId=str(old_image["channelId"]),
            ts=str(old_image["ts"]),
            version=int(old_image.get("version", 1)) + 1,
            deleted=True,
        )
    if not is_message_image(new_image):
        return None
    assert new_image is not None
    return IndexChange(
        workspaceId=str(new_image["workspaceId"]),
        channelId=str(new_image["channelId"]),
        ts=str(new_image["ts"]),
        version=int(new_image.get("version", 1)),
        userId=str(new_image["userId"]),
        text=indexed_text(str(new_image.get("text", "")), new_image.get("blocks")),
        threadTs=new_image.get("threadTs"),
        hasFile=bool(new_image.get("fileIds")),
    )
