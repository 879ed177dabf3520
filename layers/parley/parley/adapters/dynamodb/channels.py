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
from parley.adapters.dynamodb.records import to_item, to_record
from parley.domain.ports.channels import NameTaken
from parley.domain.records import ChannelMemberRecord, ChannelRecord
from parley.ids import now_micros, ts_from_micros


def channel_key(channel_id: str) -> tuple[str, str]:
    return f"CH#{channel_id}", "META"


def member_key(channel_id: str, user_id: str) -> tuple[str, str]:
    return f"CH#{channel_id}", f"MEMBER#{user_id}"


def name_key(workspace_id: str, name: str) -> tuple[str, str]:
    return f"WS#{workspace_id}", f"CHNAME#{name}"


def dm_key(workspace_id: str, digest: str) -> tuple[str, str]:
    """The claim on one set of DM members (`digest` names the sorted set)."""
    return f"WS#{workspace_id}", f"DM#{digest}"


def channel_item(channel: ChannelRecord) -> ChannelItem:
    """The channel's item: a public one is also under its workspace in GSI1, by name."""
    public = channel.type == "public"
    return to_item(
        channel,
        ChannelItem,
        *channel_key(channel.channelId),
        GSI1PK=f"WS#{channel.workspaceId}#PUBLIC" if public else None,
        GSI1SK=channel.name if public else None,
    )


def channel_record(item: ChannelItem) -> ChannelRecord:
    return to_record(item, ChannelRecord)


def member_record(item: ChannelMemberItem) -> ChannelMemberRecord:
    return to_record(item, ChannelMemberRecord)


def new_member(
    channel_id: str, workspace_id: str, user_id: str, joined_at: str
) -> ChannelMemberItem:
    return ChannelMemberItem(
        *member_key(channel_id, user_id),
        GSI1PK=f"USER#{user_id}",
        GSI1SK=f"CH#{workspace_id}#{channel_id}",
        channelId=channel_id,
        workspaceId=workspace_id,
        userId=user_id,
        joinedAt=joined_at,
        # What was said before someone joined is not unread to them.
        lastReadTs=ts_from_micros(now_micros()),
    )


def channel_items_for_creation(
    channel: ChannelRecord, creator_id: str, created_at: str
) -> tuple[ChannelNameItem, ChannelMemberItem]:
    claim = ChannelNameItem(
        *name_key(channel.workspaceId, channel.name), channelId=channel.channelId
    )
    creator = new_member(channel.channelId, channel.workspaceId, creator_id, created_at)
    return claim, creator


def create_channel(channel: ChannelRecord) -> None:
    """The channel, its name claim and its creator as first member, all or nothing."""
    claim, creator = channel_items_for_creation(channel, channel.createdBy, channel.createdAt)
    try:
        with transaction() as tx:
            tx.save(claim, condition=ChannelNameItem.PK.does_not_exist())
            tx.save(channel_item(channel), condition=ChannelItem.PK.does_not_exist())
            tx.save(creator)
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise NameTaken(channel.name) from None
        raise


def get_channel(channel_id: str) -> ChannelRecord | None:
    item = get_or_none(ChannelItem, *channel_key(channel_id))
    return channel_record(item) if item is not None else None


def get_channels(channel_ids: list[str]) -> list[ChannelRecord]:
    found = batch_get(ChannelItem, [channel_key(c) for c in channel_ids])
    return [channel_record(item) for item in found]


def get_membership(channel_id: str, user_id: str) -> ChannelMemberRecord | None:
    item = get_or_none(ChannelMemberItem, *member_key(channel_id, user_id))
    return member_record(item) if item is not None else None


def get_memberships(channel_ids: list[str], user_id: str) -> list[ChannelMemberRecord]:
    """The user's memberships among these channels (one BatchGetItem per 100)."""
    found = batch_get(ChannelMemberItem, [member_key(c, user_id) for c in channel_ids])
    return [member_record(item) for item in found]


def public_channels(workspace_id: str) -> list[ChannelRecord]:
    return [channel_record(item) for item in ChannelItem.gsi1.query(f"WS#{workspace_id}#PUBLIC")]


def memberships_in_workspace(user_id: str, workspace_id: str) -> list[ChannelMemberRecord]:
    query = ChannelMemberItem.gsi1.query(
        f"USER#{user_id}", ChannelMemberItem.GSI1SK.startswith(f"CH#{workspace_id}#")
    )
    return [member_record(item) for item in query]


def add_channel_members(channel: ChannelRecord, user_ids: list[str], joined_at: str) -> list[str]:
    """Adds each user that is not yet a member, keeping memberCount exact; returns those added.

    One small transaction per user: the member put is conditional, so a concurrent or
    repeated join neither fails nor counts twice.
    """
    counted = ChannelItem(*channel_key(channel.channelId))
    added = []
    for user_id in dict.fromkeys(user_ids):
        member = new_member(channel.channelId, channel.workspaceId, user_id, joined_at)
        try:
            with transaction() as tx:
                tx.save(member, condition=ChannelMemberItem.PK.does_not_exist())
                tx.update(counted, actions=[ChannelItem.memberCount.add(1)])
        except TransactWriteError as error:
            if cancelled_by_condition(error, 0):
                continue
            raise
        added.append(user_id)
    return added


def remove_channel_member(channel_id: str, user_id: str) -> bool:
    """Removes the member if present, keeping memberCount exact; True if removed."""
    member = ChannelMemberItem(*member_key(channel_id, user_id))
    try:
        with transaction() as tx:
            tx.delete(member, condition=ChannelMemberItem.PK.exists())
            tx.update(
                ChannelItem(*channel_key(channel_id)), actions=[ChannelItem.memberCount.add(-1)]
            )
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            return False
        raise
    return True


def channel_with_members(channel_id: str) -> tuple[ChannelRecord | None, list[str]]:
    """The channel and every member's id, in one Query per 1 MB page.

    In the channel's partition the sort keys from `MEMBER#` to `META` are exactly its
    memberships and then the channel itself (`MSG#`, `PIN#` and the rest sort after `META`),
    so a post learns both who may post and whom to tell with a single request.
    """
    channel: ChannelRecord | None = None
    members: list[str] = []
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
                channel = channel_record(ChannelItem.from_raw_data(raw))
            elif sort_key.startswith("MEMBER#"):
                members.append(ChannelMemberItem.from_raw_data(raw).userId)
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
) -> tuple[list[ChannelMemberRecord], str | None]:
    items, next_cursor = query_page(
        ChannelMemberItem,
        f"CH#{channel_id}",
        ChannelMemberItem.SK.startswith("MEMBER#"),
        limit,
        cursor,
    )
    return [member_record(item) for item in items], next_cursor


def rename_channel(channel: ChannelRecord, new_name: str) -> None:
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
            tx.update(
                ChannelItem(*channel_key(channel.channelId)),
                actions=actions,
                condition=ChannelItem.name == channel.name,
            )
    except TransactWriteError as error:
        # pynamodb sends deletes before puts before updates: 0 old claim, 1 new, 2 channel.
        if cancelled_by_condition(error, 1) or cancelled_by_condition(error, 2):
            raise NameTaken(new_name) from None
        raise


def set_topic(channel_id: str, topic: str) -> None:
    ChannelItem(*channel_key(channel_id)).update(
        actions=[ChannelItem.topic.set(topic)], condition=ChannelItem.PK.exists()
    )


def set_archived(channel_id: str, archived: bool) -> bool:
    """One conditional UpdateItem, so two concurrent archives change it once (channels made
    before archiving have no `isArchived`: not archived)."""
    if archived:
        was = ChannelItem.isArchived.does_not_exist() | ChannelItem.isArchived.is_in(False)
    else:
        was = ChannelItem.isArchived.is_in(True)
    return conditional(
        lambda: ChannelItem(*channel_key(channel_id)).update(
            actions=[ChannelItem.isArchived.set(archived)],
            condition=ChannelItem.PK.exists() & was,
        )
    )


def open_direct_message(
    channel: ChannelRecord, member_ids: list[str], digest: str
) -> ChannelRecord:
    """The DM channel of exactly these users: created once, even when opened concurrently.

    The claim on the sorted member set is written in the channel's transaction; whoever
    loses the race reads the winner's channel.
    """
    key = dm_key(channel.workspaceId, digest)
    claim = DirectMessageItem(*key, channelId=channel.channelId)
    try:
        with transaction() as tx:
            tx.save(claim, condition=DirectMessageItem.PK.does_not_exist())
            tx.save(channel_item(channel), condition=ChannelItem.PK.does_not_exist())
            for user_id in member_ids:
                tx.save(
                    new_member(channel.channelId, channel.workspaceId, user_id, channel.createdAt)
                )
    except TransactWriteError as error:
        if not cancelled_by_condition(error, 0):
            raise
        existing = get_or_none(DirectMessageItem, *key, consistent=True)
        found = (
            get_or_none(ChannelItem, *channel_key(existing.channelId), consistent=True)
            if existing
            else None
        )
        if found is None:
            raise
        return channel_record(found)
    return channel


def set_read_marker(channel_id: str, user_id: str, ts: str) -> bool:
    """Sets the member's read marker (backwards too: "mark unread"); False if not a member."""
    return conditional(
        lambda: ChannelMemberItem(*member_key(channel_id, user_id)).update(
            actions=[ChannelMemberItem.lastReadTs.set(ts)],
            condition=ChannelMemberItem.PK.exists(),
        )
    )
