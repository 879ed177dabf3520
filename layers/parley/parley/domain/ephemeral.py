"""Ephemeral messages: shown to one member of a channel on their live connections and never
stored (Slack's chat.postEphemeral, and a slash command's private answer). A member who is
offline never sees it, as in Slack."""

from __future__ import annotations

import time
from typing import Any

from parley.domain import access, ratelimits
from parley.domain.blocks import loaded, to_store
from parley.domain.caller import Caller
from parley.domain.messages import check_text
from parley.domain.ports import Publisher
from parley.errors import RecipientNotInChannel
from parley.ids import now_micros, ts_from_micros


def ephemeral_event(
    channel_id: str,
    text: str,
    *,
    ts: str,
    app_id: str | None,
    thread_ts: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The `ephemeral_message` event its recipient's connections get."""
    event: dict[str, Any] = {
        "type": "ephemeral_message",
        "channelId": channel_id,
        "ts": ts,
        "text": text,
    }
    if app_id is not None:
        event["appId"] = app_id
    if thread_ts:
        event["threadTs"] = thread_ts
    if blocks:
        event["blocks"] = blocks
    return event


def post_ephemeral(
    caller: Caller,
    channel_id: str,
    user_id: str,
    text: str,
    publisher: Publisher,
    *,
    thread_ts: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> str:
    """Shows `text` to `user_id` alone; the sender must be in the channel, the recipient
    too. Counts toward the sender's send limit. Returns the ts it was shown under."""
    check_text(text, empty_ok=bool(blocks))
    blocks = loaded(to_store(blocks))  # validated as a stored message's
    channel, member_ids = access.channel_audience(channel_id, caller.user_id, caller.workspace_id)
    access.not_archived(channel)
    if user_id not in member_ids:
        raise RecipientNotInChannel("the user is not in this channel")
    ratelimits.check_send(caller, channel_id, time.time())
    ts = ts_from_micros(now_micros())
    event = ephemeral_event(
        channel_id, text, ts=ts, app_id=caller.app_id, thread_ts=thread_ts, blocks=blocks
    )
    publisher.to_users(channel.workspaceId, [user_id], event)
    return ts
