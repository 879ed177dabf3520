"""Reactions: one per user and name on a message; adding or removing twice changes nothing."""

from __future__ import annotations

import dataclasses
import re

from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.objects import Message
from parley.domain.ports import Publisher
from parley.domain.ports.messages import store as message_store
from parley.domain.records import MessageRecord, ReactionRecord
from parley.domain.views import message_view
from parley.errors import Conflict, InvalidRequest, MessageNotFound

# Slack's emoji names: lowercase letters, digits and - _ + ' (skin tones as ::skin-tone-2).
REACTION_NAME = re.compile(r"^[a-z0-9_+'-]{1,64}(::skin-tone-[2-6])?$")
MAX_REACTION_NAMES = 50
_ATTEMPTS = 5


def react(
    caller: Caller, channel_id: str, ts: str, name: str, publisher: Publisher, *, add: bool
) -> tuple[Message, bool]:
    """The message after the change, and whether it changed: adding a reaction the caller
    already made, or removing one they did not, changes and announces nothing."""
    if not REACTION_NAME.match(name):
        raise InvalidRequest(f"invalid reaction name {name[:64]!r}")
    channel, _ = access.channel_member(channel_id, caller.user_id)
    access.not_archived(channel)
    for _ in range(_ATTEMPTS):
        item = message_store.get_message(channel_id, ts, consistent=True)
        if item is None:
            raise MessageNotFound("message not found")
        reactions = _changed(item, name, caller.user_id, add=add)
        if reactions is None:  # already as asked: idempotent, nothing to announce
            return message_view(item), False
        if message_store.save_reactions(item, reactions):
            item = dataclasses.replace(item, reactions=reactions, version=item.version + 1)
            publisher.to_channel(
                channel.workspaceId,
                channel_id,
                {
                    "type": "reaction_added" if add else "reaction_removed",
                    "channelId": channel_id,
                    "ts": ts,
                    "name": name,
                    "userId": caller.user_id,
                },
            )
            return message_view(item), True
    raise Conflict("the message is changing too fast; try again")


def _changed(
    item: MessageRecord, name: str, user_id: str, *, add: bool
) -> tuple[ReactionRecord, ...] | None:
    """The new reaction list, or None when the user's reaction is already as asked."""
    users_by_name: dict[str, list[str]] = {r.name: list(r.users) for r in item.reactions}
    users = users_by_name.get(name)
    if add:
        if users is not None and user_id in users:
            return None
        if users is None and len(users_by_name) >= MAX_REACTION_NAMES:
            raise InvalidRequest(f"a message takes at most {MAX_REACTION_NAMES} reactions")
        users_by_name.setdefault(name, []).append(user_id)
    else:
        if users is None or user_id not in users:
            return None
        users.remove(user_id)
    return tuple(ReactionRecord(name=n, users=tuple(u)) for n, u in users_by_name.items() if u)
