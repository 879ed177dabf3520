"""Pins: any channel member may pin or unpin; both are idempotent."""

from __future__ import annotations

from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.objects import Message
from parley.domain.ports import Publisher
from parley.domain.ports.messages import store as message_store
from parley.domain.ports.pins import store as pin_store
from parley.domain.views import message_view
from parley.errors import MessageNotFound
from parley.ids import iso_now


def set_pin(
    caller: Caller, channel_id: str, ts: str, publisher: Publisher, *, pinned: bool
) -> bool:
    """Whether it changed: pinning a pinned message, or unpinning one that is not, does not."""
    channel, _ = access.channel_member(channel_id, caller.user_id)
    access.not_archived(channel)
    if message_store.get_message(channel_id, ts) is None:
        raise MessageNotFound("message not found")
    changed = (
        pin_store.pin(channel_id, ts, caller.user_id, iso_now())
        if pinned
        else pin_store.unpin(channel_id, ts)
    )
    if changed:
        publisher.to_channel(
            channel.workspaceId,
            channel_id,
            {
                "type": "pin_added" if pinned else "pin_removed",
                "channelId": channel_id,
                "ts": ts,
                "userId": caller.user_id,
            },
        )
    return changed


def list_pins(caller: Caller, channel_id: str) -> list[Message]:
    access.history_channel(channel_id, caller)
    pinned = pin_store.pins(channel_id)
    found = {m.ts: m for m in message_store.get_messages(channel_id, [p.ts for p in pinned])}
    return [message_view(found[p.ts]) for p in pinned if p.ts in found]
