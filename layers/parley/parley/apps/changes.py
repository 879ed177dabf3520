"""What an app's Events API subscription learns from one change of the table. Pure code.

A stream record becomes zero or more channel events: what changed, in which channel, by
whom, with the items' images (parley.slack.events gives them Slack's shapes). Each has an
`event_id` derived from what changed (never random), so a redelivered record yields the
same ids and a receiver can drop the repeat, as Slack's `event_id` allows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from parley.streams import StreamEventName

Image = Mapping[str, Any]
EventKind = Literal[
    "message",
    "message_changed",
    "message_deleted",
    "app_mention",
    "reaction_added",
    "reaction_removed",
    "member_joined_channel",
    "member_left_channel",
    "channel_created",
]


@dataclass(frozen=True)
class ChannelEvent:
    kind: EventKind
    event_id: str
    workspace_id: str
    channel_id: str
    actor: str | None  # who did it, when known: an app never hears what its own bot did
    image: Image  # the item: the message (before, for a deletion), the membership, the channel
    previous: Image | None = None  # message_changed: the message before the edit
    reaction: str | None = None
    user: str | None = None  # who reacted, joined or left
    mentioned: frozenset[str] = frozenset()  # app_mention: the users the message mentions

    @property
    def channel_type(self) -> str | None:
        """Known from the image for channel_created; other events look the channel up."""
        return str(self.image["type"]) if self.kind == "channel_created" else None


def _event_id(*parts: object) -> str:
    return "Ev" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:24]


def _reactions(image: Image | None) -> set[tuple[str, str]]:
    return {
        (str(reaction["name"]), str(user))
        for reaction in (image or {}).get("reactions") or []
        for user in reaction.get("users") or []
    }


def _event(
    kind: EventKind, image: Image, event_id: str, actor: str | None, **rest: Any
) -> ChannelEvent:
    return ChannelEvent(
        kind=kind,
        event_id=event_id,
        workspace_id=str(image["workspaceId"]),
        channel_id=str(image["channelId"]),
        actor=actor,
        image=image,
        **rest,
    )


def channel_events(
    event_name: StreamEventName, new: Image | None, old: Image | None
) -> list[ChannelEvent]:
    """The app events of one stream record (images deserialized); [] for other items."""
    image = new or old or {}
    pk, sk = str(image.get("PK", "")), str(image.get("SK", ""))
    if not pk.startswith("CH#"):
        return []
    if sk.startswith("MSG#"):
        return _message_events(event_name, new, old)
    if sk.startswith("MEMBER#") and event_name in ("INSERT", "REMOVE"):
        joined = event_name == "INSERT"
        kind: EventKind = "member_joined_channel" if joined else "member_left_channel"
        user, joined_at = image["userId"], image["joinedAt"]
        event_id = _event_id("join" if joined else "left", image["channelId"], user, joined_at)
        return [_event(kind, image, event_id, user, user=user)]
    if event_name == "INSERT" and new is not None and sk == "META":
        event_id = _event_id("created", new["channelId"])
        return [_event("channel_created", new, event_id, new.get("createdBy"))]
    return []


def _edited(new: Image, old: Image) -> bool:
    return any(new.get(name) != old.get(name) for name in ("editedTs", "text", "blocks"))


def _message_events(
    event_name: StreamEventName, new: Image | None, old: Image | None
) -> list[ChannelEvent]:
    if event_name == "INSERT" and new is not None:
        if new.get("imported"):  # a Slack import's history: no app hears it as news
            return []
        channel, ts, author = new["channelId"], new["ts"], new["userId"]
        events = [_event("message", new, _event_id("message", channel, ts), author)]
        mentioned = frozenset(str(user) for user in new.get("mentions") or ())
        if mentioned:
            event_id = _event_id("app_mention", channel, ts)
            events.append(_event("app_mention", new, event_id, author, mentioned=mentioned))
        return events
    if event_name == "REMOVE" and old is not None:
        # Who deleted it (the author or an admin) is not in the record.
        event_id = _event_id("deleted", old["channelId"], old["ts"])
        return [_event("message_deleted", old, event_id, None)]
    if new is None or old is None:
        return []
    events = []
    channel, ts, version = new["channelId"], new["ts"], new.get("version", 1)
    if _edited(new, old):
        event_id = _event_id("changed", channel, ts, version)
        events.append(_event("message_changed", new, event_id, new["userId"], previous=old))
    before, after = _reactions(old), _reactions(new)
    kinds: tuple[tuple[EventKind, set[tuple[str, str]]], ...] = (
        ("reaction_added", after - before),
        ("reaction_removed", before - after),
    )
    for kind, pairs in kinds:
        for name, user in sorted(pairs):
            event_id = _event_id(kind, channel, ts, name, user, version)
            events.append(_event(kind, new, event_id, user, reaction=name, user=user))
    return events
