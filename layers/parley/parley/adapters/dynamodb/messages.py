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
from parley.adapters.dynamodb.items import ClientMsgItem, MessageItem
from parley.adapters.dynamodb.records import file_map, message_record, reaction_maps
from parley.domain.ports.messages import DuplicateSend, NotYours, TsTaken
from parley.domain.records import MessageRecord, ReactionRecord

_LOWEST_TS = "0000000000.000000"
_HIGHEST_TS = "9999999999.999999"


def message_key(channel_id: str, ts: str) -> tuple[str, str]:
    return f"CH#{channel_id}", f"MSG#{ts}"


def client_msg_key(channel_id: str, user_id: str, client_msg_id: str) -> tuple[str, str]:
    return f"CH#{channel_id}", f"CLIENTMSG#{user_id}#{client_msg_id}"


def message_item(message: MessageRecord) -> MessageItem:
    """The item of a new message: a reply is also under its thread in GSI1."""
    thread = message.threadTs
    return MessageItem(
        *message_key(message.channelId, message.ts),
        GSI1PK=f"THREAD#{message.channelId}#{thread}" if thread else None,
        GSI1SK=message.ts if thread else None,
        channelId=message.channelId,
        workspaceId=message.workspaceId,
        ts=message.ts,
        userId=message.userId,
        text=message.text,
        threadTs=thread,
        replyCount=message.replyCount,
        latestReplyTs=message.latestReplyTs,
        reactions=reaction_maps(message.reactions),
        editedTs=message.editedTs,
        clientMsgId=message.clientMsgId,
        fileIds=list(message.fileIds) if message.fileIds else None,
        files=[file_map(f) for f in message.files] if message.files else None,
        mentions=set(message.mentions) if message.mentions else None,
        broadcast=message.broadcast,
        hereUsers=set(message.hereUsers) if message.hereUsers else None,
        appId=message.appId,
        subtype=message.subtype,
        blocks=message.blocks,
        version=message.version,
        createdAt=message.createdAt,
    )


def put_new_message(record: MessageRecord, retry_key_expires: int) -> None:
    """Stores a message whose ts must be new in its channel.

    With a clientMsgId the retry key is written in the same transaction, so of racing
    retries exactly one creates a message and the others learn its ts (DuplicateSend). The
    shares of the files it carries are written in it too: a file is visible where a message
    shares it, never without the message.
    """
    message = message_item(record)
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


def get_message(channel_id: str, ts: str, consistent: bool = False) -> MessageRecord | None:
    item = get_or_none(MessageItem, *message_key(channel_id, ts), consistent=consistent)
    return message_record(item) if item is not None else None


def top_level_page(
    channel_id: str,
    oldest: str | None,
    latest: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[MessageRecord], str | None]:
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
    page: list[MessageRecord] = []
    for item in query:
        if item.ts in (lower, upper):
            continue
        if len(page) == limit:
            return page, encode_cursor({"before": page[-1].ts})
        page.append(message_record(item))
    return page, None


def record_reply(channel_id: str, parent_ts: str, reply_ts: str) -> None:
    """Counts a reply on its parent and keeps latestReplyTs the newest reply's ts.

    DynamoDB has no max(): the first update sets latestReplyTs only if this reply is newer;
    when a newer reply got there first, a second update just counts.
    """
    parent = MessageItem(*message_key(channel_id, parent_ts))
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
) -> tuple[list[MessageRecord], str | None]:
    """A thread's replies, oldest first (GSI1 THREAD#<cid>#<parentTs> / <ts>)."""
    position = decode_cursor(cursor, required=("after",))
    condition = MessageItem.GSI1SK > position["after"] if position else None  # noqa: SIM300 - a pynamodb condition, not a comparison
    query = MessageItem.gsi1.query(
        f"THREAD#{channel_id}#{thread_ts}",
        condition,
        limit=limit + 1,
        page_size=limit + 1,
    )
    items = [message_record(item) for item in query]
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
) -> MessageRecord:
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
    return message_record(item)


def set_here_users(channel_id: str, ts: str, user_ids: set[str]) -> None:
    """Records who was active when a <!here> message went out (they count it as a mention)."""
    if user_ids:
        MessageItem(*message_key(channel_id, ts)).update(
            actions=[MessageItem.hereUsers.set(user_ids)]
        )


def delete_message(record: MessageRecord) -> bool:
    """Deletes the message, and the shares of its files with it (and counts it off its
    thread's parent); False if already gone."""
    message = MessageItem(*message_key(record.channelId, record.ts))
    exists = MessageItem.PK.exists()
    if record.fileIds:
        try:
            with transaction() as tx:
                tx.delete(message, condition=exists)
                for file_id in record.fileIds:
                    tx.delete(new_share(file_id, record.channelId, record.ts))
        except TransactWriteError as error:
            if cancelled_by_condition(error, 0):
                return False
            raise
    elif not conditional(lambda: message.delete(condition=exists)):
        return False
    if record.threadTs:
        parent = MessageItem(*message_key(record.channelId, record.threadTs))
        # A parent that went first has nothing left to count.
        conditional(
            lambda: parent.update(
                actions=[MessageItem.replyCount.add(-1), MessageItem.version.add(1)],
                condition=MessageItem.PK.exists(),
            )
        )
    return True


def save_reactions(message: MessageRecord, reactions: tuple[ReactionRecord, ...]) -> bool:
    """Writes the reaction list if nobody changed the message since it was read."""
    item = MessageItem(*message_key(message.channelId, message.ts))
    return conditional(
        lambda: item.update(
            actions=[
                MessageItem.reactions.set(reaction_maps(reactions)),
                MessageItem.version.add(1),
            ],
            condition=MessageItem.version == message.version,
        )
    )


def get_messages(channel_id: str, timestamps: list[str]) -> list[MessageRecord]:
    found = batch_get(MessageItem, [message_key(channel_id, ts) for ts in timestamps])
    return [message_record(item) for item in found]
