"""Messages and the retry keys of idempotent sends."""

from __future__ import annotations

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from parley.adapters.dynamodb.base import (
    batch_get,
    cancelled_by_condition,
    condition_failed,
    conditional,
    decode_cursor,
    encode_cursor,
    epoch,
    get_or_none,
    transaction,
)
from parley.adapters.dynamodb.files import new_share
from parley.adapters.dynamodb.items import ClientMsgItem, MessageItem, ReactionMap

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
    retries exactly one creates a message and the others learn its ts (DuplicateSend). The
    shares of the files it carries are written in it too: a file is visible where a message
    shares it, never without the message.
    """
    unused_ts = MessageItem.PK.does_not_exist()
    if message.clientMsgId is None and not message.fileIds:
        try:
            message.save(condition=unused_ts)
        except PutError as error:
            if condition_failed(error):
                raise TsTaken(message.ts) from None
            raise
        return
    claim = None
    if message.clientMsgId is not None:
        key = client_msg_key(message.channelId, message.userId, message.clientMsgId)
        claim = ClientMsgItem(*key, ts=message.ts, ttl=epoch(retry_key_expires))
    try:
        with transaction() as tx:
            if claim is not None:
                tx.save(claim, condition=ClientMsgItem.PK.does_not_exist())
            tx.save(message, condition=unused_ts)
            for file_id in message.fileIds or []:
                tx.save(new_share(str(file_id), message.channelId, message.ts))
    except TransactWriteError as error:
        if claim is not None and cancelled_by_condition(error, 0):
            first = get_or_none(ClientMsgItem, claim.PK, claim.SK, consistent=True)
            if first is not None:
                raise DuplicateSend(first.ts) from None
        if cancelled_by_condition(error, 0 if claim is None else 1):
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
        # A reply sent to the channel too (Slack's reply_broadcast) is in both lists.
        filter_condition=MessageItem.threadTs.does_not_exist()
        | (MessageItem.subtype == "thread_broadcast"),
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
    """Counts a reply on its parent and keeps latestReplyTs the newest reply's ts.

    DynamoDB has no max(): the first update sets latestReplyTs only if this reply is newer;
    when a newer reply got there first, a second update just counts.
    """
    count: list[Action] = [MessageItem.replyCount.add(1), MessageItem.version.add(1)]
    newer = MessageItem.latestReplyTs.does_not_exist() | (MessageItem.latestReplyTs < reply_ts)
    newest = conditional(
        lambda: parent.update(
            actions=[*count, MessageItem.latestReplyTs.set(reply_ts)],
            condition=MessageItem.PK.exists() & newer,
        )
    )
    if not newest:
        parent.update(actions=count, condition=MessageItem.PK.exists())


def replies_page(
    channel_id: str, thread_ts: str, limit: int, cursor: str | None
) -> tuple[list[MessageItem], str | None]:
    """A thread's replies, oldest first (GSI1 THREAD#<cid>#<parentTs> / <ts>)."""
    position = decode_cursor(cursor, required=("after",))
    condition = MessageItem.GSI1SK > position["after"] if position else None  # noqa: SIM300 - a pynamodb condition, not a comparison
    query = MessageItem.gsi1.query(
        f"THREAD#{channel_id}#{thread_ts}",
        condition,
        limit=limit + 1,
        page_size=limit + 1,
    )
    items = list(query)
    if len(items) > limit:
        return items[:limit], encode_cursor({"after": items[limit - 1].ts})
    return items, None


def edit_text(
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
) -> MessageItem:
    """Replaces the text (and what it mentions) if `author_id` wrote the message; bumps
    version. With `replace_blocks`, `blocks` (their JSON, None for none) replace the
    message's blocks; without, they stay. Raises NotYours."""
    item = MessageItem(*message_key(channel_id, ts))
    actions: list[Action] = [
        MessageItem.text.set(text),
        MessageItem.editedTs.set(edited_ts),
        MessageItem.version.add(1),
        MessageItem.mentions.set(set(mentions)) if mentions else MessageItem.mentions.remove(),
        MessageItem.broadcast.set(broadcast) if broadcast else MessageItem.broadcast.remove(),
    ]
    if replace_blocks:
        actions.append(MessageItem.blocks.set(blocks) if blocks else MessageItem.blocks.remove())
    try:
        item.update(
            actions=actions,
            condition=MessageItem.PK.exists() & (MessageItem.userId == author_id),
        )
    except UpdateError as error:
        if condition_failed(error):
            raise NotYours(ts) from None
        raise
    return item


def set_here_users(message: MessageItem, user_ids: set[str]) -> None:
    """Records who was active when a <!here> message went out (they count it as a mention)."""
    if user_ids:
        message.update(actions=[MessageItem.hereUsers.set(user_ids)])


def delete_message(message: MessageItem) -> bool:
    """Deletes the message, and the shares of its files with it (and counts it off its
    thread's parent); False if already gone."""
    exists = MessageItem.PK.exists()
    if message.fileIds:
        try:
            with transaction() as tx:
                tx.delete(message, condition=exists)
                for file_id in message.fileIds:
                    tx.delete(new_share(str(file_id), message.channelId, message.ts))
        except TransactWriteError as error:
            if cancelled_by_condition(error, 0):
                return False
            raise
    elif not conditional(lambda: message.delete(condition=exists)):
        return False
    if message.threadTs:
        parent = MessageItem(*message_key(message.channelId, message.threadTs))
        # A parent that went first has nothing left to count.
        conditional(
            lambda: parent.update(
                actions=[MessageItem.replyCount.add(-1), MessageItem.version.add(1)],
                condition=MessageItem.PK.exists(),
            )
        )
    return True


def save_reactions(message: MessageItem, reactions: list[ReactionMap]) -> bool:
    """Writes the reaction list if nobody changed the message since it was read."""
    return conditional(
        lambda: message.update(
            actions=[MessageItem.reactions.set(reactions), MessageItem.version.add(1)],
            condition=MessageItem.version == message.version,
        )
    )


class NotYours(Exception):
    """The message does not exist or another user wrote it."""


def get_messages(channel_id: str, timestamps: list[str]) -> list[MessageItem]:
    return batch_get(MessageItem, [message_key(channel_id, ts) for ts in timestamps])
