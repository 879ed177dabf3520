"""Presence and typing.

A user is `active` in a workspace while one of their connections is live, a sign of life
(connect or ping) came within PRESENCE_TIMEOUT_SECONDS, and they have not set themselves
away; otherwise `away`. Changes go only to connections that subscribed to that user.
"""

from __future__ import annotations

import time

from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.publisher import Publisher
from parley.errors import InvalidRequest
from parley.store import channels as channel_store
from parley.store import connections as connection_store
from parley.store import presence as presence_store
from parley.store import workspaces as workspace_store

# API Gateway closes a connection idle for 10 minutes; a client pings well within that.
PRESENCE_TIMEOUT_SECONDS = 600
TYPING_INTERVAL_MS = 3000
MAX_PRESENCE_USERS = 100


def statuses(workspace_id: str, user_ids: list[str], now: int | None = None) -> dict[str, str]:
    now = int(time.time()) if now is None else now
    online = set(connection_store.live_connections(workspace_id, user_ids).values())
    records = presence_store.records(user_ids, workspace_id)
    return {
        user_id: "active"
        if user_id in online
        and not records[user_id][1]
        and now - records[user_id][0] <= PRESENCE_TIMEOUT_SECONDS
        else "away"
        for user_id in user_ids
    }


def announce(user_id: str, workspace_id: str, publisher: Publisher) -> None:
    """Tells the user's watchers if their status changed since it was last announced."""
    status = statuses(workspace_id, [user_id])[user_id]
    if presence_store.announce(user_id, workspace_id, status):
        watchers = presence_store.watchers(user_id, workspace_id)
        event = {"type": "presence_change", "userId": user_id, "presence": status}
        publisher.to_connections(workspace_id, watchers, event)


def signed_in(user_id: str, workspace_id: str, publisher: Publisher) -> None:
    """A connection opened or pinged: a sign of life."""
    presence_store.seen(user_id, workspace_id, int(time.time()))
    announce(user_id, workspace_id, publisher)


def set_manual(caller: Caller, away: bool, publisher: Publisher) -> None:
    presence_store.set_manual_away(caller.user_id, away)
    for membership in workspace_store.memberships_of(caller.user_id):
        announce(caller.user_id, membership.workspaceId, publisher)


def presence_of(caller: Caller, workspace_id: str, user_ids: list[str]) -> dict[str, str]:
    access.workspace_member(workspace_id, caller.user_id)
    wanted = _checked(user_ids)
    members = [u for u in wanted if workspace_store.get_member(workspace_id, u) is not None]
    return statuses(workspace_id, members)


def subscribe(
    caller: Caller, workspace_id: str, user_ids: list[str], expires_at: int
) -> dict[str, str]:
    """Replaces what this connection watches; answers with those users' current presence."""
    wanted = _checked(user_ids)
    if caller.connection_id is None:
        raise InvalidRequest("presence subscriptions belong to a WebSocket connection")
    if not presence_store.subscribe(
        caller.connection_id, caller.user_id, workspace_id, wanted, expires_at
    ):
        raise InvalidRequest("this connection is closing")
    return statuses(workspace_id, wanted)


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
