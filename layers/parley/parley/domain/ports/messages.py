"""The messages port: messages, their replies and reactions, and the retry keys of sends."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import MessageRecord, ReactionRecord


class TsTaken(Exception):
    """Another message of the channel already has this ts."""


class DuplicateSend(Exception):
    """The sender's clientMsgId was already used in this channel; `ts` is the first message."""

    def __init__(self, ts: str) -> None:
        super().__init__(ts)
        self.ts = ts


class NotYours(Exception):
    """The message does not exist or another user wrote it."""


class MessageRepository(Protocol):
    def put_new_message(self, message: MessageRecord, retry_key_expires: int) -> None:
        """Stores a message whose ts must be new in its channel (else TsTaken), with its
        clientMsgId's retry key (a repeat raises DuplicateSend) and the shares of its files,
        all or nothing."""

    def find_send(self, channel_id: str, user_id: str, client_msg_id: str) -> str | None:
        """The ts of the message a clientMsgId made within the retry key's life, if any."""

    def get_message(
        self, channel_id: str, ts: str, consistent: bool = False
    ) -> MessageRecord | None: ...

    def get_messages(self, channel_id: str, timestamps: list[str]) -> list[MessageRecord]:
        """Those of the messages that exist, in no particular order."""

    def top_level_page(
        self,
        channel_id: str,
        oldest: str | None,
        latest: str | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[MessageRecord], str | None]:
        """Top-level messages (and replies sent to the channel too) strictly between
        `oldest` and `latest`, newest first, and the next page's cursor."""

    def replies_page(
        self, channel_id: str, thread_ts: str, limit: int, cursor: str | None
    ) -> tuple[list[MessageRecord], str | None]:
        """A thread's replies, oldest first, and the next page's cursor."""

    def record_reply(self, channel_id: str, parent_ts: str, reply_ts: str) -> None:
        """Counts a reply on its parent, keeping latestReplyTs the newest reply's."""

    def edit_text(
        self,
        channel_id: str,
        ts: str,
        *,
        author_id: str,
        text: str,
        edited_ts: str,
        mentions: frozenset[str],
        broadcast: str | None,
        blocks: str | None = None,
        replace_blocks: bool = False,
    ) -> MessageRecord:
        """The message with its new text, if `author_id` wrote it (else NotYours)."""

    def set_here_users(self, channel_id: str, ts: str, user_ids: set[str]) -> None:
        """Who was active when a <!here> message went out."""

    def delete_message(self, message: MessageRecord) -> bool:
        """Deletes it with its files' shares, counting it off its parent; False if gone."""

    def save_reactions(self, message: MessageRecord, reactions: tuple[ReactionRecord, ...]) -> bool:
        """Writes the reactions unless the message changed since `message` was read."""


store: MessageRepository = port("messages")
