"""Notification preferences: the level on the member's item (`CH#<cid>` / `MEMBER#<uid>`,
`notifyLevel`) with the channel's count of "all" members (`notifyAllCount` on its META),
do not disturb on `USER#<uid>` / `DND`, and pushes claimed on `USER#<uid>` /
`PUSH#<ts>#<cid>` (TTL a day)."""

from __future__ import annotations

from pynamodb.exceptions import PutError, TransactWriteError

from parley.adapters.dynamodb.base import (
    batch_get,
    cancelled_by_condition,
    condition_failed,
    epoch,
    transaction,
)
from parley.adapters.dynamodb.channels import channel_key, member_key
from parley.adapters.dynamodb.items import (
    ChannelItem,
    ChannelMemberItem,
    DoNotDisturbItem,
    PushClaimItem,
)


def dnd_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "DND"


def push_key(user_id: str, channel_id: str, ts: str) -> tuple[str, str]:
    return f"USER#{user_id}", f"PUSH#{ts}#{channel_id}"


def set_level(channel_id: str, user_id: str, level: str | None, before: str | None) -> bool:
    member = ChannelMemberItem(*member_key(channel_id, user_id))
    unchanged = (
        ChannelMemberItem.notifyLevel.does_not_exist()
        if before is None
        else ChannelMemberItem.notifyLevel == before
    )
    action = (
        ChannelMemberItem.notifyLevel.remove()
        if level is None
        else ChannelMemberItem.notifyLevel.set(level)
    )
    delta = (level == "all") - (before == "all")
    try:
        with transaction() as tx:
            tx.update(member, actions=[action], condition=ChannelMemberItem.PK.exists() & unchanged)
            if delta:
                tx.update(
                    ChannelItem(*channel_key(channel_id)),
                    actions=[ChannelItem.notifyAllCount.add(delta)],
                    condition=ChannelItem.PK.exists(),
                )
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            return False
        raise
    return True


def member_levels(channel_id: str) -> dict[str, str | None]:
    query = ChannelMemberItem.query(
        f"CH#{channel_id}",
        ChannelMemberItem.SK.startswith("MEMBER#"),
        attributes_to_get=["userId", "notifyLevel"],
    )
    return {item.userId: item.notifyLevel for item in query}


def set_dnd(user_id: str, until: str | None, expires_at: int | None) -> None:
    if until is None:
        DoNotDisturbItem(*dnd_key(user_id)).delete()
        return
    ttl = epoch(expires_at) if expires_at is not None else None
    DoNotDisturbItem(*dnd_key(user_id), until=until, ttl=ttl).save()


def dnd_until(user_ids: list[str]) -> dict[str, str]:
    found = batch_get(DoNotDisturbItem, [dnd_key(u) for u in dict.fromkeys(user_ids)])
    return {item.PK.removeprefix("USER#"): item.until for item in found}


def claim_push(user_id: str, channel_id: str, ts: str, expires_at: int) -> bool:
    claim = PushClaimItem(*push_key(user_id, channel_id, ts), ttl=epoch(expires_at))
    try:
        claim.save(condition=PushClaimItem.PK.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def release_push(user_id: str, channel_id: str, ts: str) -> None:
    PushClaimItem(*push_key(user_id, channel_id, ts)).delete()
