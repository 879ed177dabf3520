"""What an app's Events API subscription learns from one change of the table. Pure code.

A stream record becomes zero or more channel events, in the shapes of API.md's WebSocket
events, each with an `eventId` derived from what changed (never random), so a redelivered
record yields the same ids and a receiver can drop the repeat, as Slack's `event_id` allows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from parley.streams import StreamEventName

Image = Mapping[str, Any]


class ChannelEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    eventId: str
    workspaceId: str
    channelId: str
    channelType: str | None = None  # known for channel_created only
    event: dict[str, Any]  # {"type": ..., ...} as the WebSocket event

    @property
    def type(self) -> str:
        return str(self.event["type"])


def _event_id(*parts: object) -> str:
    return "Ev" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:24]


def _message(image: Image) -> dict[str, Any]:
    message = {"ts": image["ts"], "userId": image["userId"], "text": image.get("text", "")}
    if image.get("threadTs"):
        message["threadTs"] = image["threadTs"]
    return message


def _reactions(image: Image | None) -> set[tuple[str, str]]:
    return {
        (str(reaction["name"]), str(user))
        for reaction in (image or {}).get("reactions") or []
        for user in reaction.get("users") or []
    }


def _event(image: Image, event_id: str, event: dict[str, Any]) -> ChannelEvent:
    return ChannelEvent(
        eventId=event_id,
        workspaceId=str(image["workspaceId"]),
        channelId=str(image["channelId"]),
        event=event,
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
    if event_name == "INSERT" and new is not None and sk.startswith("MEMBER#"):
        user = new["userId"]
        event = {"type": "member_joined_channel", "channelId": new["channelId"], "userId": user}
        return [_event(new, _event_id("join", new["channelId"], user, new["joinedAt"]), event)]
    if event_name == "INSERT" and new is not None and sk == "META":
        channel = {"id": new["channelId"], "name": new["name"], "type": new["type"]}
        created = _event(
            new,
            _event_id("created", new["channelId"]),
            {
                "type": "channel_created",
                "channel": channel,
            },
        )
        return [created.model_copy(update={"channelType": new["type"]})]
    return []


def _message_events(
    event_name: StreamEventName, new: Image | None, old: Image | None
) -> list[ChannelEvent]:
    if event_name == "INSERT" and new is not None:
        event = {"type": "message", "channelId": new["channelId"], "message": _message(new)}
        return [_event(new, _event_id("message", new["channelId"], new["ts"]), event)]
    if event_name == "REMOVE" and old is not None:
        event = {"type": "message_deleted", "channelId": old["channelId"], "ts": old["ts"]}
        return [_event(old, _event_id("deleted", old["channelId"], old["ts"]), event)]
    if new is None or old is None:
        return []
    events = []
    version = new.get("version", 1)
    if new.get("text") != old.get("text"):
        event = {"type": "message_changed", "channelId": new["channelId"], "message": _message(new)}
        events.append(
            _event(new, _event_id("changed", new["channelId"], new["ts"], version), event)
        )
    before, after = _reactions(old), _reactions(new)
    for kind, pairs in (("reaction_added", after - before), ("reaction_removed", before - after)):
        for name, user in sorted(pairs):
            event = {
                "type": kind,
                "channelId": new["channelId"],
                "ts": new["ts"],
                "name": name,
                "userId": user,
            }
            event_id = _event_id(kind, new["channelId"], new["ts"], name, user, version)
            events.append(_event(new, event_id, event))
    return events
