"""Presence and typing.

A user is `active` in a workspace while one of their connections is live, a sign of life
(connect or ping) came within the presence timeout (`Settings.presence_timeout_seconds`,
600 s: API Gateway closes a connection idle for 10 minutes), and they have not set
themselves away; otherwise `away`. Changes go only to connections that subscribed to that
user: at once when a connection opens or closes, a ping arrives or the user sets their
status; within the sweep's interval (a minute) when a heartbeat expires.
"""

from __future__ import annotations

import time

from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.ports import Publisher
from parley.domain.ports.channels import store as channel_store
from parley.domain.ports.connections import store as connection_store
from parley.domain.ports.presence import store as presence_store
from parley.domain.ports.workspaces import store as workspace_store
from parley.errors import InvalidRequest
from parley.observability import MetricUnit, metrics

# How far back the sweep looks for expired heartbeats it has not announced yet: a missed
# or failed run is made up by the next ones within this window.
SWEEP_LOOKBACK_MINUTES = 15
TYPING_INTERVAL_MS = 3000
MAX_PRESENCE_USERS = 100


def statuses(
    workspace_id: str, user_ids: list[str], *, timeout_s: int, now: int | None = None
) -> dict[str, str]:
    # A heartbeat seen at t expires at t + timeout_s: from that second on it reads `away`,
    # the same second the sweep's expiry index (`presence_store.seen`) counts it expired.
    now = int(time.time()) if now is None else now
    online = set(connection_store.live_connections(workspace_id, user_ids).values())
    records = presence_store.records(user_ids, workspace_id)
    return {
        user_id: "active"
        if user_id in online and not records[user_id][1] and now < records[user_id][0] + timeout_s
        else "away"
        for user_id in user_ids
    }


def announce(user_id: str, workspace_id: str, publisher: Publisher, *, timeout_s: int) -> None:
    """Tells the user's watchers if their status changed since it was last announced."""
    status = statuses(workspace_id, [user_id], timeout_s=timeout_s)[user_id]
    if presence_store.announce(user_id, workspace_id, status):
        _tell_watchers(user_id, workspace_id, status, publisher)


def _tell_watchers(user_id: str, workspace_id: str, status: str, publisher: Publisher) -> None:
    watchers = presence_store.watchers(user_id, workspace_id)
    event = {"type": "presence_change", "userId": user_id, "presence": status}
    publisher.to_connections(workspace_id, watchers, event)


def signed_in(user_id: str, workspace_id: str, publisher: Publisher, *, timeout_s: int) -> None:
    """A connection opened or pinged: a sign of life."""
    presence_store.seen(user_id, workspace_id, int(time.time()), timeout_s)
    announce(user_id, workspace_id, publisher, timeout_s=timeout_s)


def sweep(publisher: Publisher, now: int | None = None) -> int:
    """Announces `away` for heartbeats that expired (and were not announced away already);
    how many it announced. Runs on a schedule; overlapping runs announce each expiry once.

    Cost follows the expired heartbeats of the last SWEEP_LOOKBACK_MINUTES (one Query per
    minute bucket of a sparse index), never the users or connections that are still fine.
    """
    now = int(time.time()) if now is None else now
    announced = 0
    for heartbeat in presence_store.expired(now, SWEEP_LOOKBACK_MINUTES):
        if presence_store.claim_expiry(heartbeat):
            _tell_watchers(heartbeat.user_id, heartbeat.workspace_id, "away", publisher)
            announced += 1
    metrics.add_metric("PresenceExpiriesAnnounced", MetricUnit.Count, announced)
    return announced


def set_manual(caller: Caller, away: bool, publisher: Publisher, *, timeout_s: int) -> None:
    presence_store.set_manual_away(caller.user_id, away)
    for membership in workspace_store.memberships_of(caller.user_id):
        announce(caller.user_id, membership.workspaceId, publisher, timeout_s=timeout_s)


def presence_of(
    caller: Caller, workspace_id: str, user_ids: list[str], *, timeout_s: int
) -> dict[str, str]:
    access.workspace_member(workspace_id, caller.user_id)
    wanted = _checked(user_ids)
    members = [u for u in wanted if workspace_store.get_member(workspace_id, u) is not None]
    return statuses(workspace_id, members, timeout_s=timeout_s)


def subscribe(
    caller: Caller, workspace_id: str, user_ids: list[str], expires_at: int, *, timeout_s: int
) -> dict[str, str]:
    """Replaces what this connection watches; answers with those users' current presence."""
    wanted = _checked(user_ids)
    if caller.connection_id is None:
        raise InvalidRequest("presence subscriptions belong to a WebSocket connection")
    if not presence_store.subscribe(
        caller.connection_id, caller.user_id, workspace_id, wanted, expires_at
    ):
        raise InvalidRequest("this connection is closing")
    return statuses(workspace_id, wanted, timeout_s=timeout_s)


def typing(
    caller: Caller,
    workspace_id: str,
    channel_id: str,
    thread_ts: str | None,
    publisher: Publisher,
) -> bool:
    """Tells the channel's other members (never the sender); at most one every few seconds
    per sender and channel, the rest dropped quietly. True if it went out."""
    channel, _ = access.channel_member(channel_id, caller.user_id, workspace_id)
    now_ms = int(time.time() * 1000)
    if not presence_store.may_type(channel_id, caller.user_id, now_ms, TYPING_INTERVAL_MS):
        return False
    others = [u for u in channel_store.member_ids(channel_id) if u != caller.user_id]
    event: dict[str, object] = {
        "type": "user_typing",
        "channelId": channel_id,
        "userId": caller.user_id,
    }
    if thread_ts:
        event["threadTs"] = thread_ts
    publisher.to_users(channel.workspaceId, others, event)
    return True


def _checked(user_ids: list[str]) -> list[str]:
    wanted = list(dict.fromkeys(user_ids))
    if len(wanted) > MAX_PRESENCE_USERS:
        raise InvalidRequest(f"at most {MAX_PRESENCE_USERS} users at a time")
    return wanted
