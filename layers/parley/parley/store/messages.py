"""Messages and the retry keys of idempotent sends."""

from __future__ import annotations

from pynamodb.exceptions import PutError, TransactWriteError

from parley.store.base import (
    cancelled_by_condition,
    condition_failed,
    decode_cursor,
    encode_cursor,
    epoch,
    get_or_none,
    transaction,
)
from parley.store.items import ClientMsgItem, MessageItem

_LOWEST_TS = "0000000000.000000"
_HIGHEST_TS = "9999999999.999999"


class TsTaken(Exception):
    """Another message of the channel already has this ts."""


class DuplicateSend(Exception):
    """The sender's clientMsgId was already used in this channel; `ts` is the first message."""

    def __init__(self, ts: str) -> None:
        super().__init__(ts)
        self.ts = ts


def message_key(channel_id: str, ts: str) -> tuple[str, str]:
    return f"CH#{channel_id}", f"MSG#{ts}"


def client_msg_key(channel_id: str, user_id: str, client_msg_id: str) -> tuple[str, str]:
    return f"CH#{channel_id}", f"CLIENTMSG#{user_id}#{client_msg_id}"


def put_new_message(message: MessageItem, retry_key_expires: int) -> None:
    """Stores a message whose ts must be new in its channel.

    With a clientMsgId the retry key is written in the same transaction, so of racing
    retries exactly one creates a message and the others learn its ts (DuplicateSend).
    """
    unused_ts = MessageItem.PK.does_not_exist()
    if message.clientMsgId is None:
        try:
            message.save(condition=unused_ts)
        except PutError as error:
            if condition_failed(error):
                raise TsTaken(message.ts) from None
            raise
        return
    key = client_msg_key(message.channelId, message.userId, message.clientMsgId)
    claim = ClientMsgItem(*key, ts=message.ts, ttl=epoch(retry_key_expires))
    try:
        with transaction() as tx:
            tx.save(claim, condition=ClientMsgItem.PK.does_not_exist())
            tx.save(message, condition=unused_ts)
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            first = get_or_none(ClientMsgItem, *key, consistent=True)
            if first is not None:
                raise DuplicateSend(first.ts) from None
        if cancelled_by_condition(error, 1):
            raise TsTaken(message.ts) from None
        raise


def find_send(channel_id: str, user_id: str, client_msg_id: str) -> str | None:
    """The ts of the message that a clientMsgId made within the last 24 hours, if any."""
    claim = get_or_none(ClientMsgItem, *client_msg_key(channel_id, user_id, client_msg_id))
    return claim.ts if claim is not None else None


def get_message(channel_id: str, ts: str, consistent: bool = False) -> MessageItem | None:
    return get_or_none(MessageItem, *message_key(channel_id, ts), consistent=consistent)


def top_level_page(
    channel_id: str,
    oldest: str | None,
    latest: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[MessageItem], str | None]:
    """Top-level messages strictly between `oldest` and `latest`, newest first.

    Replies live in the same key range (one ts space per channel), so they are filtered
    out; the iterator reads further pages until the page is full. The cursor is the ts of
    the last message returned, so paging stays exact while new messages arrive.
    """
    position = decode_cursor(cursor, required=("before",))
    upper = min(t for t in (latest, position and position["before"], _HIGHEST_TS) if t)
    lower = oldest or _LOWEST_TS
    if lower >= upper:
        return [], None
    query = MessageItem.query(
        f"CH#{channel_id}",
        MessageItem.SK.between(f"MSG#{lower}", f"MSG#{upper}"),
        filter_condition=MessageItem.threadTs.does_not_exist(),
        scan_index_forward=False,
        page_size=min(limit + 1, 200),
    )
    page: list[MessageItem] = []
    for item in query:
        if item.ts in (lower, upper):
            continue
        if len(page) == limit:
            return page, encode_cursor({"before": page[-1].ts})
        page.append(item)
    return page, None


def record_reply(parent: MessageItem, reply_ts: str) -> None:
    """Counts a reply on its parent and records it as the latest reply.

    Two replies racing may leave latestReplyTs at the older one; the conversations issue
    makes this conditional.
    """
    parent.update(
        actions=[
            MessageItem.replyCount.add(1),
            MessageItem.latestReplyTs.set(reply_ts),
            MessageItem.version.add(1),
        ]
    )
