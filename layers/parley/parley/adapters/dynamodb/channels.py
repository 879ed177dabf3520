"""Channels, their name claims and their members."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from parley.adapters.dynamodb.base import (
    batch_get,
    cancelled_by_condition,
    conditional,
    get_or_none,
    query_page,
    transaction,
)
from parley.adapters.dynamodb.items import (
    ChannelItem,
    ChannelMemberItem,
    ChannelNameItem,
    DirectMessageItem,
)
from parley.ids import now_micros, ts_from_micros


class NameTaken(Exception):
    """The workspace already has a channel of that name."""


def channel_key(channel_id: str) -> tuple[str, str]:
    return f"CH#{channel_id}", "META"


def member_key(channel_id: str, user_id: str) -> tuple[str, str]:
    return f"CH#{channel_id}", f"MEMBER#{user_id}"


def name_key(workspace_id: str, name: str) -> tuple[str, str]:
    return f"WS#{workspace_id}", f"CHNAME#{name}"


def new_channel(
    *,
    channel_id: str,
    workspace_id: str,
    name: str,
    kind: str,
    topic: str,
    created_by: str,
    created_at: str,
) -> ChannelItem:
    public = kind == "public"
    return ChannelItem(
        *channel_key(channel_id),
        GSI1PK=f"WS#{workspace_id}#PUBLIC" if public else None,
        GSI1SK=name if public else None,
        channelId=channel_id,
        workspaceId=workspace_id,
        name=name,
        type=kind,
        topic=topic,
        createdBy=created_by,
        createdAt=created_at,
        memberCount=1,
    )


def new_member(channel: ChannelItem, user_id: str, joined_at: str) -> ChannelMemberItem:
    return ChannelMemberItem(
        *member_key(channel.channelId, user_id),
        GSI1PK=f"USER#{user_id}",
        GSI1SK=f"CH#{channel.workspaceId}#{channel.channelId}",
        channelId=channel.channelId,
        workspaceId=channel.workspaceId,
        userId=user_id,
        joinedAt=joined_at,
        # What was said before someone joined is not unread to them.
        lastReadTs=ts_from_micros(now_micros()),
    )


def channel_items_for_creation(
    channel: ChannelItem, creator_id: str, created_at: str
) -> tuple[ChannelNameItem, ChannelMemberItem]:
    claim = ChannelNameItem(
        *name_key(channel.workspaceId, channel.name), channelId=channel.channelId
    )
    return claim, new_member(channel, creator_id, created_at)


def create_channel(channel: ChannelItem) -> None:
    """The channel, its name claim and its creator as first member, all or nothing."""
    claim, creator = channel_items_for_creation(channel, channel.createdBy, channel.createdAt)
    try:
        with transaction() as tx:
            tx.save(claim, condition=ChannelNameItem.PK.does_not_exist())
            tx.save(channel, condition=ChannelItem.PK.does_not_exist())
            tx.save(creator)
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise NameTaken(channel.name) from None
        raise


def get_channel(channel_id: str) -> ChannelItem | None:
    return get_or_none(ChannelItem, *channel_key(channel_id))


def get_channels(channel_ids: list[str]) -> list[ChannelItem]:
    return batch_get(ChannelItem, [channel_key(c) for c in channel_ids])


def get_membership(channel_id: str, user_id: str) -> ChannelMemberItem | None:
    return get_or_none(ChannelMemberItem, *member_key(channel_id, user_id))


def get_memberships(channel_ids: list[str], user_id: str) -> list[ChannelMemberItem]:
    """The user's memberships among these channels (one BatchGetItem per 100)."""
    return batch_get(ChannelMemberItem, [member_key(c, user_id) for c in channel_ids])


def public_channels(workspace_id: str) -> list[ChannelItem]:
    return list(ChannelItem.gsi1.query(f"WS#{workspace_id}#PUBLIC"))


def memberships_in_workspace(user_id: str, workspace_id: str) -> list[ChannelMemberItem]:
    return list(
        ChannelMemberItem.gsi1.query(
            f"USER#{user_id}", ChannelMemberItem.GSI1SK.startswith(f"CH#{workspace_id}#")
        )
    )


def add_channel_members(channel: ChannelItem, user_ids: list[str], joined_at: str) -> list[str]:
    """Adds each user that is not yet a member, keeping memberCount exact; returns those added.

    One small transaction per user: the member put is conditional, so a concurrent or
    repeated join neither fails nor counts twice.
    """
    added = []
    for user_id in dict.fromkeys(user_ids):
        member = new_member(channel, user_id, joined_at)
        try:
            with transaction() as tx:
                tx.save(member, condition=ChannelMemberItem.PK.does_not_exist())
                tx.update(channel, actions=[ChannelItem.memberCount.add(1)])
        except TransactWriteError as error:
            if cancelled_by_condition(error, 0):
                continue
            raise
        added.append(user_id)
    return added


def remove_channel_member(channel: ChannelItem, user_id: str) -> bool:
    """Removes the member if present, keeping memberCount exact; True if removed."""
    member = ChannelMemberItem(*member_key(channel.channelId, user_id))
    try:
        with transaction() as tx:
            tx.delete(member, condition=ChannelMemberItem.PK.exists())
            tx.update(channel, actions=[ChannelItem.memberCount.add(-1)])
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            return False
        raise
    return True


def channel_with_members(channel_id: str) -> tuple[ChannelItem | None, list[ChannelMemberItem]]:
    """The channel and every membership, in one Query per 1 MB page.

    In the channel's partition the sort keys from `MEMBER#` to `META` are exactly its
    memberships and then the channel itself (`MSG#`, `PIN#` and the rest sort after `META`),
    so a post learns both who may post and whom to tell with a single request.
    """
    channel: ChannelItem | None = None
    members: list[ChannelMemberItem] = []
    connection = ChannelItem._get_connection()
    start = None
    while True:
        page = connection.query(
            f"CH#{channel_id}",
            range_key_condition=ChannelItem.SK.between("MEMBER#", "META"),
            exclusive_start_key=start,
        )
        for raw in page.get("Items", ()):
            sort_key = raw["SK"]["S"]
            if sort_key == "META":
                channel = ChannelItem.from_raw_data(raw)
            elif sort_key.startswith("MEMBER#"):
                members.append(ChannelMemberItem.from_raw_data(raw))
        start = page.get("LastEvaluatedKey")
        if not start:
            return channel, members


def members_among(channel_id: str, user_ids: list[str]) -> set[str]:
    """Which of `user_ids` are members of the channel: one BatchGetItem per 100."""
    keys = [member_key(channel_id, user_id) for user_id in user_ids]
    return {item.userId for item in batch_get(ChannelMemberItem, keys)}


def member_ids(channel_id: str) -> list[str]:
    """Every member's id: one Query per 1 MB page, about 8,000 members a page."""
    query = ChannelMemberItem.query(
        f"CH#{channel_id}",
        ChannelMemberItem.SK.startswith("MEMBER#"),
        attributes_to_get=["userId"],
    )
    return [item.userId for item in query]


def list_members(
    channel_id: str, limit: int, cursor: str | None
) -> tuple[list[ChannelMemberItem], str | None]:
    return query_page(
        ChannelMemberItem,
        f"CH#{channel_id}",
        ChannelMemberItem.SK.startswith("MEMBER#"),
        limit,
        cursor,
    )


def rename_channel(channel: ChannelItem, new_name: str) -> None:
    """Moves the name claim and renames, all or nothing; NameTaken if the name is in use."""
    old_claim = ChannelNameItem(*name_key(channel.workspaceId, channel.name))
    new_claim = ChannelNameItem(
        *name_key(channel.workspaceId, new_name), channelId=channel.channelId
    )
    actions = [ChannelItem.name.set(new_name)]
    if channel.type == "public":
        actions.append(ChannelItem.GSI1SK.set(new_name))
    try:
        with transaction() as tx:
            tx.save(new_claim, condition=ChannelNameItem.PK.does_not_exist())
            tx.delete(old_claim)
            tx.update(channel, actions=actions, condition=ChannelItem.name == channel.name)
    except TransactWriteError as error:
        # pynamodb sends deletes before puts before updates: 0 old claim, 1 new, 2 channel.
        if cancelled_by_condition(error, 1) or cancelled_by_condition(error, 2):
            raise NameTaken(new_name) from None
        raise


def set_topic(channel: ChannelItem, topic: str) -> None:
    channel.update(actions=[ChannelItem.topic.set(topic)], condition=ChannelItem.PK.exists())


def open_direct_message(
    channel: ChannelItem, member_ids: list[str], dm_key: tuple[str, str]
) -> ChannelItem:
    """The DM channel of exactly these users: created once, even when opened concurrently.

    The claim on the sorted member set is written in the channel's transaction; whoever
    loses the race reads the winner's channel.
    """
    claim = DirectMessageItem(*dm_key, channelId=channel.channelId)
    channel.memberCount = len(member_ids)
    try:
        with transaction() as tx:
            tx.save(claim, condition=DirectMessageItem.PK.does_not_exist())
            tx.save(channel, condition=ChannelItem.PK.does_not_exist())
            for user_id in member_ids:
                tx.save(new_member(channel, user_id, channel.createdAt))
    except TransactWriteError as error:
        if not cancelled_by_condition(error, 0):
            raise
        existing = get_or_none(DirectMessageItem, *dm_key, consistent=True)
        found = (
            get_or_none(ChannelItem, *channel_key(existing.channelId), consistent=True)
            if existing
            else None
        )
        if found is None:
            raise
        return found
    return channel


def set_read_marker(channel_id: str, user_id: str, ts: str) -> bool:
    """Sets the member's read marker (backwards too: "mark unread"); False if not a member."""
    return conditional(
        lambda: ChannelMemberItem(*member_key(channel_id, user_id)).update(
            actions=[ChannelMemberItem.lastReadTs.set(ts)],
            condition=ChannelMemberItem.PK.exists(),
        )
    )
