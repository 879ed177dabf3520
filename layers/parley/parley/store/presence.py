"""Presence: signs of life, manual away, who watches whom, and typing throttles."""

from __future__ import annotations

from parley.store.base import batch_get, conditional, epoch, get_or_none
from parley.store.items import ConnectionItem, PresenceItem, PresenceSubItem, TypingItem


def presence_key(user_id: str, workspace_id: str | None) -> tuple[str, str]:
    return f"USER#{user_id}", f"PRESENCE#{workspace_id}" if workspace_id else "PRESENCE"


def seen(user_id: str, workspace_id: str, now: int) -> None:
    PresenceItem(*presence_key(user_id, workspace_id)).update(
        actions=[PresenceItem.lastSeen.set(now)]
    )


def announce(user_id: str, workspace_id: str, status: str) -> bool:
    """Records `status` as announced; False if it already was (nothing to tell anyone)."""
    return conditional(
        lambda: PresenceItem(*presence_key(user_id, workspace_id)).update(
            actions=[PresenceItem.announced.set(status)],
            condition=PresenceItem.announced.does_not_exist() | (PresenceItem.announced != status),
        )
    )


def set_manual_away(user_id: str, away: bool) -> None:
    PresenceItem(*presence_key(user_id, None)).update(actions=[PresenceItem.manualAway.set(away)])


def records(user_ids: list[str], workspace_id: str) -> dict[str, tuple[int, bool]]:
    """user id -> (lastSeen in the workspace, manual away anywhere)."""
    keys = [presence_key(u, workspace_id) for u in user_ids] + [
        presence_key(u, None) for u in user_ids
    ]
    found = {(i.PK, i.SK): i for i in batch_get(PresenceItem, keys)}
    result = {}
    for user_id in user_ids:
        local = found.get(presence_key(user_id, workspace_id))
        manual = found.get(presence_key(user_id, None))
        result[user_id] = (
            int(local.lastSeen) if local else 0,
            bool(manual.manualAway) if manual else False,
        )
    return result


def subscribe(
    connection_id: str, watcher_id: str, workspace_id: str, user_ids: list[str], expires_at: int
) -> bool:
    """Replaces the connection's presence subscriptions with `user_ids`, as Slack's
    presence_sub does; False if the connection is unknown."""
    record = get_or_none(ConnectionItem, f"CONN#{connection_id}", "CONN")
    if record is None:
        return False
    previous = set(record.presenceSubs or ())
    wanted = set(user_ids)
    with PresenceSubItem.batch_write() as batch:
        for user_id in previous - wanted:
            batch.delete(
                PresenceSubItem(f"PRESENCESUB#{workspace_id}#{user_id}", f"CONN#{connection_id}")
            )
        for user_id in wanted - previous:
            batch.save(
                PresenceSubItem(
                    f"PRESENCESUB#{workspace_id}#{user_id}",
                    f"CONN#{connection_id}",
                    connectionId=connection_id,
                    watcherId=watcher_id,
                    ttl=epoch(expires_at),
                )
            )
    record.update(
        actions=[ConnectionItem.presenceSubs.set(wanted)]
        if wanted
        else [ConnectionItem.presenceSubs.remove()]
    )
    return True


def watchers(user_id: str, workspace_id: str) -> dict[str, str]:
    """connection id -> its user, for connections watching the user's presence."""
    query = PresenceSubItem.query(f"PRESENCESUB#{workspace_id}#{user_id}")
    return {item.connectionId: item.watcherId for item in query}


def may_type(channel_id: str, user_id: str, now_ms: int, interval_ms: int) -> bool:
    """Claims the user's next typing event in the channel; False within `interval_ms`."""
    item = TypingItem(
        f"TYPING#{channel_id}", f"USER#{user_id}", sentAt=now_ms, ttl=epoch(now_ms // 1000 + 60)
    )
    return conditional(
        lambda: item.save(
            condition=TypingItem.PK.does_not_exist() | (TypingItem.sentAt <= now_ms - interval_ms)
        )
    )
