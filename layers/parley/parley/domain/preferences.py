"""Notification preferences (API.md, "Team features"): a member's level per channel and a
user's do not disturb. They decide what is pushed (SNS) to someone with no live connection,
nothing else: notifications are still made and listed, `notification` events still reach
live connections, and unread and mention counts are kept whatever they say.

What is pushed, to a recipient who is offline and not in do not disturb:

| level | a mention (or any DM message) | a message that mentions them not |
| --- | --- | --- |
| `all` | pushed | pushed (not in a DM: there every message is already a notification) |
| `mentions` (the default) | pushed | not pushed |
| `none` | not pushed | not pushed |

Do not disturb (`until` in the future) holds back every push until then.
"""

from __future__ import annotations

from datetime import UTC, datetime

from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.ports.preferences import store as preference_store
from parley.errors import Conflict

LEVELS = ("all", "mentions", "none")
DEFAULT_LEVEL = "mentions"
_ATTEMPTS = 3
_DAY = 24 * 3600


def set_level(caller: Caller, channel_id: str, level: str) -> None:
    """The caller's level for a channel they are in (the default is stored as none)."""
    if level not in LEVELS:
        raise ValueError(level)  # the edges validate it; a bug if it gets here
    _, membership = access.channel_member(channel_id, caller.user_id)
    wanted = None if level == DEFAULT_LEVEL else level
    before = membership.notifyLevel
    for _ in range(_ATTEMPTS):
        if before == wanted:
            return
        if preference_store.set_level(channel_id, caller.user_id, wanted, before):
            return
        # Changed meanwhile (another of the caller's devices), or left: read it again.
        before = access.channel_member(channel_id, caller.user_id)[1].notifyLevel
    raise Conflict("the preference is changing too fast; try again")


def set_dnd(caller: Caller, until: datetime | None) -> None:
    """Do not disturb until `until` (UTC when it names no zone); None ends it. A time in
    the past ends it too."""
    if until is None:
        preference_store.set_dnd(caller.user_id, None, None)
        return
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    until = until.astimezone(UTC)
    if until <= datetime.now(UTC):
        preference_store.set_dnd(caller.user_id, None, None)
        return
    preference_store.set_dnd(
        caller.user_id, until.isoformat().replace("+00:00", "Z"), int(until.timestamp()) + _DAY
    )


def in_dnd(user_ids: list[str], now: float) -> set[str]:
    """Those of these users whose do not disturb lasts past `now` (one BatchGetItem)."""
    if not user_ids:
        return set()
    ends = preference_store.dnd_until(user_ids)
    return {
        user_id
        for user_id, until in ends.items()
        if datetime.fromisoformat(until.replace("Z", "+00:00")).timestamp() > now
    }


def pushable(
    user_ids: list[str], levels: dict[str, str | None], now: float, *, mentioned: bool
) -> list[str]:
    """Of these offline recipients, those a push may reach: their level lets it (a mention
    or a DM when `mentioned`, any message otherwise) and they are not in do not disturb."""
    wanted = [
        u
        for u in user_ids
        if (levels.get(u) or DEFAULT_LEVEL) in (("all", "mentions") if mentioned else ("all",))
    ]
    quiet = in_dnd(wanted, now)
    return [u for u in wanted if u not in quiet]
