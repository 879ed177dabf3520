"""Presence: signs of life, manual away, who watches whom, and typing throttles.

A sign of life also files the presence item in a sparse GSI1 partition per minute of its
heartbeat's expiry (`PRESENCE_EXPIRY#<minute>` / `<expiry 10 digits>#<wid>#<uid>`), so the
sweep reads only the heartbeats that expired, never the table.
"""

from __future__ import annotations

from collections.abc import Iterator

from pynamodb.expressions.update import Action

from parley.adapters.dynamodb.base import batch_get, conditional, epoch, get_or_none
from parley.adapters.dynamodb.connections import connection_key
from parley.adapters.dynamodb.items import ConnectionItem, PresenceItem, PresenceSubItem, TypingItem
from parley.domain.ports.presence import ExpiredHeartbeat

EXPIRY_PREFIX = "PRESENCE_EXPIRY#"


def presence_key(user_id: str, workspace_id: str | None) -> tuple[str, str]:
    return f"USER#{user_id}", f"PRESENCE#{workspace_id}" if workspace_id else "PRESENCE"


def expiry_bucket(epoch_seconds: int) -> str:
    return f"{EXPIRY_PREFIX}{epoch_seconds // 60}"


def seen(user_id: str, workspace_id: str, now: int, timeout_s: int) -> None:
    """Records a sign of life and files the heartbeat under the minute it expires in."""
    expires_at = now + timeout_s
    PresenceItem(*presence_key(user_id, workspace_id)).update(
        actions=[
            PresenceItem.lastSeen.set(now),
            PresenceItem.GSI1PK.set(expiry_bucket(expires_at)),
            PresenceItem.GSI1SK.set(f"{expires_at:010d}#{workspace_id}#{user_id}"),
        ]
    )


def expired(now: int, lookback_minutes: int) -> Iterator[ExpiredHeartbeat]:
    """Heartbeats that expired by `now`, from the minute buckets of the last
    `lookback_minutes`: one Query per bucket, reading only what expired in it."""
    current = now // 60
    for minute in range(current - lookback_minutes, current + 1):
        query = PresenceItem.gsi1.query(
            f"{EXPIRY_PREFIX}{minute}",
            PresenceItem.GSI1SK < f"{now + 1:010d}",  # noqa: SIM300 - a key condition, not a comparison
        )
        for item in query:
            _, workspace_id, user_id = str(item.GSI1SK).split("#", 2)
            yield ExpiredHeartbeat(user_id, workspace_id, int(item.lastSeen))


def claim_expiry(heartbeat: ExpiredHeartbeat) -> bool:
    """Takes the heartbeat out of the expiry index and records `away` as announced, if no
    sign of life came since; True if `away` is news to announce.

    Conditional writes decide it: an overlapping sweep finds `away` already recorded (no
    second announcement), and a ping in between moved `lastSeen` (no stale `away`).
    """
    key = presence_key(heartbeat.user_id, heartbeat.workspace_id)
    unchanged = PresenceItem.lastSeen == heartbeat.last_seen
    leave_index: list[Action] = [PresenceItem.GSI1PK.remove(), PresenceItem.GSI1SK.remove()]
    if conditional(
        lambda: PresenceItem(*key).update(
            actions=[PresenceItem.announced.set("away"), *leave_index],
            condition=unchanged
            & (PresenceItem.announced.does_not_exist() | (PresenceItem.announced != "away")),
        )
    ):
        return True
    # Already announced away (the last connection closed, or manual away): only tidy up.
    conditional(lambda: PresenceItem(*key).update(actions=leave_index, condition=unchanged))
    return False


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
    record = get_or_none(ConnectionItem, *connection_key(connection_id))
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
