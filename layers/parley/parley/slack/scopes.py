"""Slack's OAuth scopes as Parley grants them, and what an app made before them may do.

An app's token carries scopes by Slack's names; each Web API method and each event
subscription needs one (Slack's own table, e.g. `conversations.history` on a private
channel needs `groups:history`). Apps made before these names existed had four scopes
with wider meanings: `channels:read` and `channels:history` covered every conversation the
bot was in, private ones and DMs too, `reactions:write` let it see reactions, and events
needed no scope. Such an app (its item has no `scopeNames`) keeps what it could do:
`effective_scopes` widens its four into today's names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

Scope = Literal[
    "chat:write",
    "channels:read",
    "channels:history",
    "channels:join",
    "channels:manage",
    "groups:read",
    "groups:history",
    "groups:write",
    "im:read",
    "im:history",
    "im:write",
    "mpim:read",
    "mpim:history",
    "mpim:write",
    "reactions:read",
    "reactions:write",
    "pins:read",
    "pins:write",
    "users:read",
    "users:read.email",
    "usergroups:read",
    "usergroups:write",
    "bookmarks:read",
    "bookmarks:write",
    "reminders:read",
    "reminders:write",
    "team:read",
    "commands",
    "app_mentions:read",
    "incoming-webhook",
]
SCOPES: tuple[str, ...] = get_args(Scope)

# The scope names' version that new apps are stamped with (AppItem.scopeNames).
SCOPE_NAMES_VERSION = 2

_LEGACY_WIDENS = {
    "channels:read": ("groups:read", "im:read", "mpim:read"),
    "channels:history": ("groups:history", "im:history", "mpim:history", "app_mentions:read"),
    "reactions:write": ("reactions:read",),
}


def effective_scopes(granted: Iterable[str], scope_names: float | None) -> frozenset[str]:
    """What a token may do: its scopes, widened for an app made before Slack's names."""
    scopes = set(granted)
    if scope_names is None:
        for old in list(scopes):
            scopes.update(_LEGACY_WIDENS.get(old, ()))
        scopes.add("commands")
    return frozenset(scopes)
