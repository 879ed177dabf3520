"""Claims: a placeholder user of a Slack import taken over by the person who signs up with
its email: the profile's mark, the memberships moved, the history's authorship rewritten."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action

from parley.adapters.dynamodb.base import (
    batch_get,
    cancelled_by_condition,
    conditional,
    get_or_none,
    query_page,
    transaction,
)
from parley.adapters.dynamodb.channels import (
    channel_key,
    channel_record,
    dm_key,
    member_key,
)
from parley.adapters.dynamodb.items import (
    ChannelItem,
    ChannelMemberItem,
    DirectMessageItem,
    MessageItem,
    UserItem,
    WorkspaceMemberItem,
)
from parley.adapters.dynamodb.messages import message_key
from parley.adapters.dynamodb.records import message_record, reaction_maps
from parley.adapters.dynamodb.users import email_key, user_key
from parley.adapters.dynamodb.workspaces import member_key as workspace_member_key
from parley.domain.records import ChannelRecord, MessageRecord, ReactionRecord


def _put_new(item: WorkspaceMemberItem) -> bool:
    """Saves the item unless its key holds one already; True if saved."""
    return conditional(lambda: item.save(condition=WorkspaceMemberItem.PK.does_not_exist()))


def unclaimed_placeholders(email: str) -> list[str]:
    keys = email_key("", email)
    if keys is None:
        return []
    found = UserItem.gsi1.query(keys[0], UserItem.GSI1SK.startswith("USER#"))
    return [
        item.userId for item in found if item.imported == "placeholder" and item.claimedBy is None
    ]


def claimed_by(user_ids: list[str]) -> dict[str, str]:
    found = batch_get(UserItem, [user_key(u) for u in dict.fromkeys(user_ids)])
    return {item.userId: item.claimedBy for item in found if item.claimedBy}


def claim(placeholder_id: str, user_id: str) -> bool:
    item = UserItem(*user_key(placeholder_id))
    return conditional(
        lambda: item.update(
            actions=[UserItem.claimedBy.set(user_id)],
            condition=UserItem.PK.exists()
            & (UserItem.claimedBy.does_not_exist() | (UserItem.claimedBy == user_id)),
        )
    )


def move_workspace_memberships(placeholder_id: str, user_id: str) -> list[str]:
    moved = []
    query = WorkspaceMemberItem.gsi1.query(
        f"USER#{placeholder_id}", WorkspaceMemberItem.GSI1SK.startswith("WS#")
    )
    for member in list(query):
        pk, sk = workspace_member_key(member.workspaceId, user_id)
        mine = WorkspaceMemberItem(
            pk,
            sk,
            GSI1PK=f"USER#{user_id}",
            GSI1SK=f"WS#{member.workspaceId}",
            workspaceId=member.workspaceId,
            userId=user_id,
            role=member.role,
            joinedAt=member.joinedAt,
            isBot=False,
        )
        _put_new(mine)
        member.delete()
        moved.append(member.workspaceId)
    return moved


def move_channel_memberships(placeholder_id: str, user_id: str) -> list[ChannelRecord]:
    """Each membership moves in one transaction (the placeholder's deleted, the user's put),
    so that two sign-ins of one person racing move it once; where the user is a member
    already, the placeholder's goes and the channel counts one member fewer. An interrupted
    move is finished by the next: the placeholder's memberships are what is left to move."""
    query = ChannelMemberItem.gsi1.query(
        f"USER#{placeholder_id}", ChannelMemberItem.GSI1SK.startswith("CH#")
    )
    channel_ids = []
    for member in list(query):
        mine = ChannelMemberItem(
            *member_key(member.channelId, user_id),
            GSI1PK=f"USER#{user_id}",
            GSI1SK=f"CH#{member.workspaceId}#{member.channelId}",
            channelId=member.channelId,
            workspaceId=member.workspaceId,
            userId=user_id,
            joinedAt=member.joinedAt,
            lastReadTs=member.lastReadTs,
        )
        _move(member, mine)
        channel_ids.append(member.channelId)
    found = batch_get(ChannelItem, [channel_key(c) for c in channel_ids])
    return [channel_record(item) for item in found]


def _move(theirs: ChannelMemberItem, mine: ChannelMemberItem) -> None:
    try:
        with transaction() as tx:
            tx.delete(theirs, condition=ChannelMemberItem.PK.exists())
            tx.save(mine, condition=ChannelMemberItem.PK.does_not_exist())
        return
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            return  # moved by another delivery or sign-in
        if not cancelled_by_condition(error, 1):
            raise
    try:  # a member already: the placeholder's membership goes, and one member with it
        with transaction() as tx:
            tx.delete(theirs, condition=ChannelMemberItem.PK.exists())
            tx.update(
                ChannelItem(*channel_key(theirs.channelId)),
                actions=[ChannelItem.memberCount.add(-1)],
                condition=ChannelItem.PK.exists(),
            )
    except TransactWriteError as error:
        if not cancelled_by_condition(error, 0):
            raise


def rekey_direct_message(
    workspace_id: str, old_digest: str, new_digest: str, channel_id: str
) -> None:
    mine = DirectMessageItem(*dm_key(workspace_id, new_digest), channelId=channel_id)
    conditional(lambda: mine.save(condition=DirectMessageItem.PK.does_not_exist()))
    old = get_or_none(DirectMessageItem, *dm_key(workspace_id, old_digest))
    if old is not None and old.channelId == channel_id:
        old.delete(condition=DirectMessageItem.channelId == channel_id)


def set_creator(channel_id: str, placeholder_id: str, user_id: str) -> None:
    item = ChannelItem(*channel_key(channel_id))
    conditional(
        lambda: item.update(
            actions=[ChannelItem.createdBy.set(user_id)],
            condition=ChannelItem.createdBy == placeholder_id,
        )
    )


def history_page(
    channel_id: str, cursor: str | None, limit: int
) -> tuple[list[MessageRecord], str | None]:
    items, next_cursor = query_page(
        MessageItem, f"CH#{channel_id}", MessageItem.SK.startswith("MSG#"), limit, cursor
    )
    return [message_record(item) for item in items], next_cursor


def reassign(
    message: MessageRecord,
    *,
    user_id: str,
    text: str,
    reactions: tuple[ReactionRecord, ...],
    mentions: frozenset[str] | None,
) -> bool:
    item = MessageItem(*message_key(message.channelId, message.ts))
    actions: list[Action] = [
        MessageItem.userId.set(user_id),
        MessageItem.text.set(text),
        MessageItem.reactions.set(reaction_maps(reactions)),
        MessageItem.mentions.set(set(mentions)) if mentions else MessageItem.mentions.remove(),
        MessageItem.version.add(1),
    ]
    return conditional(
        lambda: item.update(actions=actions, condition=MessageItem.version == message.version)
    )
