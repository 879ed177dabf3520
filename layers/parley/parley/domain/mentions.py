"""Slack's mention markup: <@userId>, <!here> (the channel's active members), <!channel>,
and <!subteam^GID> (a user group's members, parley.domain.usergroups)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_USER = re.compile(r"<@([A-Za-z0-9_-]{1,64})(?:\|[^>]*)?>")
_BROADCAST = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^([A-Za-z0-9_-]{1,64})(?:\|[^>]*)?>")


@dataclass(frozen=True)
class Mentions:
    users: frozenset[str]
    broadcast: str | None  # "channel" (everyone in it) or "here" (those active)
    subteams: frozenset[str] = frozenset()  # user group ids


def parse(text: str) -> Mentions:
    kinds = {m.group(1) for m in _BROADCAST.finditer(text)}
    broadcast = "channel" if kinds & {"channel", "everyone"} else "here" if kinds else None
    return Mentions(frozenset(_USER.findall(text)), broadcast, frozenset(_SUBTEAM.findall(text)))
