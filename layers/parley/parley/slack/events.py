"""The Events API in Slack's shapes: which subscription delivers a channel event and under
which scope, the `event` Slack would send for it, and the envelope around it. Pure code.

Slack's names for Parley's: the workspace is the `team`, a channel's type is
`channel_type` (`channel`, `group`, `im`, `mpim` for public, private, dm and group_dm;
the member events use Slack's letters `C` and `G`), and a bot's `bot_id` is its user id.
Apps made before Slack's names subscribed with Parley's old names (`message`,
`message_changed`, `message_deleted`, and four names Slack shares); each subscription here
says which old name covered it, so those apps keep hearing what they heard.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from parley.apps.changes import ChannelEvent, EventKind, Image
from parley.ids import ts_from_micros

# Slack's bot event subscriptions, as an app lists them in `events`.
SubscriptionName = Literal[
    "message.channels",
    "message.groups",
    "message.im",
    "message.mpim",
    "app_mention",
    "reaction_added",
    "reaction_removed",
    "member_joined_channel",
    "member_left_channel",
    "channel_created",
]
SUBSCRIPTIONS: tuple[str, ...] = get_args(SubscriptionName)
# The names of apps made before Slack's (the four shared with SUBSCRIPTIONS included).
LegacySubscriptionName = Literal[
    "message",
    "message_changed",
    "message_deleted",
    "reaction_added",
    "reaction_removed",
    "member_joined_channel",
    "channel_created",
]
LEGACY_SUBSCRIPTIONS: tuple[str, ...] = get_args(LegacySubscriptionName)

CHANNEL_TYPES = {"public": "channel", "private": "group", "dm": "im", "group_dm": "mpim"}
_MESSAGES = {"public": "channels", "private": "groups", "dm": "im", "group_dm": "mpim"}
# Slack sends no member events in a DM: its two members never change.
_MEMBER_CHANNEL_TYPES = {"public": "C", "private": "G", "group_dm": "G"}
_MEMBER_SCOPES = {"public": "channels:read", "private": "groups:read", "group_dm": "mpim:read"}


@dataclass(frozen=True)
class Subscription:
    name: str  # Slack's subscription that delivers the event
    scope: str  # the scope it needs
    legacy: str | None  # the old name that delivered it to apps made before Slack's names


_ANYWHERE = {
    "app_mention": Subscription("app_mention", "app_mentions:read", None),
    "reaction_added": Subscription("reaction_added", "reactions:read", "reaction_added"),
    "reaction_removed": Subscription("reaction_removed", "reactions:read", "reaction_removed"),
}
_CHANNEL_CREATED = Subscription("channel_created", "channels:read", "channel_created")


def subscription(kind: EventKind, channel_type: str) -> Subscription | None:
    """What delivers an event of this kind in a channel of this (Parley) type; None where
    Slack sends no such event (member changes in a DM, a channel created that is not
    public)."""
    if kind in ("message", "message_changed", "message_deleted"):
        short = _MESSAGES[channel_type]
        return Subscription(f"message.{short}", f"{short}:history", kind)
    if kind in ("member_joined_channel", "member_left_channel"):
        scope = _MEMBER_SCOPES.get(channel_type)
        legacy = kind if kind == "member_joined_channel" else None
        return Subscription(kind, scope, legacy) if scope else None
    if kind == "channel_created":
        return _CHANNEL_CREATED if channel_type == "public" else None
    return _ANYWHERE[kind]


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _message(image: Image, parent_user_id: str | None) -> dict[str, Any]:
    """A message as Slack's events carry it (without where it was posted)."""
    message: dict[str, Any] = {"type": "message"}
    subtype = image.get("subtype")
    if subtype:
        message["subtype"] = subtype
    if subtype != "bot_message":  # Slack's bot_message carries the bot, not a user
        message["user"] = image["userId"]
    if image.get("appId"):
        message["bot_id"] = image["userId"]
        message["app_id"] = image["appId"]
    message["text"] = image.get("text", "")
    message["ts"] = image["ts"]
    message["team"] = image["workspaceId"]
    if image.get("threadTs"):
        message["thread_ts"] = image["threadTs"]
        if parent_user_id:
            message["parent_user_id"] = parent_user_id
    if image.get("blocks"):
        message["blocks"] = json.loads(image["blocks"])
    if image.get("editedTs"):
        message["edited"] = {"user": image["userId"], "ts": image["editedTs"]}
    if image.get("clientMsgId"):
        message["client_msg_id"] = image["clientMsgId"]
    return message


@dataclass(frozen=True)
class _Context:
    channel_type: str
    parent_user_id: str | None
    now_ts: str

    @property
    def where(self) -> dict[str, str]:
        return {"channel_type": CHANNEL_TYPES[self.channel_type]}


def _new_message(change: ChannelEvent, context: _Context) -> dict[str, Any]:
    image = change.image
    return {
        **_message(image, context.parent_user_id),
        "channel": change.channel_id,
        **context.where,
        "event_ts": image["ts"],
    }


def _app_mention(change: ChannelEvent, context: _Context) -> dict[str, Any]:
    mention = _message(change.image, context.parent_user_id)
    mention.pop("subtype", None)
    return {
        **mention,
        "type": "app_mention",
        "channel": change.channel_id,
        "event_ts": change.image["ts"],
    }


def _message_changed(change: ChannelEvent, context: _Context) -> dict[str, Any]:
    assert change.previous is not None
    edited_ts = change.image.get("editedTs") or context.now_ts
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": change.channel_id,
        **context.where,
        "ts": edited_ts,
        "event_ts": edited_ts,
        "message": _message(change.image, context.parent_user_id),
        "previous_message": _message(change.previous, context.parent_user_id),
    }


def _message_deleted(change: ChannelEvent, context: _Context) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": change.channel_id,
        **context.where,
        "ts": context.now_ts,
        "event_ts": context.now_ts,
        "deleted_ts": change.image["ts"],
        "previous_message": _message(change.image, context.parent_user_id),
    }


def _reaction(change: ChannelEvent, context: _Context) -> dict[str, Any]:
    return {
        "type": change.kind,
        "user": change.user,
        "reaction": change.reaction,
        "item": {"type": "message", "channel": change.channel_id, "ts": change.image["ts"]},
        "item_user": change.image["userId"],
        "event_ts": context.now_ts,
    }


def _member(change: ChannelEvent, context: _Context) -> dict[str, Any]:
    joined = change.kind == "member_joined_channel"
    return {
        "type": change.kind,
        "user": change.user,
        "channel": change.channel_id,
        "channel_type": _MEMBER_CHANNEL_TYPES[context.channel_type],
        "team": change.workspace_id,
        "event_ts": _ts(change.image["joinedAt"]) if joined else context.now_ts,
    }


def _channel_created(change: ChannelEvent, context: _Context) -> dict[str, Any]:
    image = change.image
    return {
        "type": "channel_created",
        "channel": {
            "id": change.channel_id,
            "name": image["name"],
            "created": int(_epoch(image["createdAt"])),
            "creator": image["createdBy"],
        },
        "event_ts": _ts(image["createdAt"]),
    }


_RENDERERS: dict[str, Callable[[ChannelEvent, _Context], dict[str, Any]]] = {
    "message": _new_message,
    "app_mention": _app_mention,
    "message_changed": _message_changed,
    "message_deleted": _message_deleted,
    "reaction_added": _reaction,
    "reaction_removed": _reaction,
    "member_joined_channel": _member,
    "member_left_channel": _member,
    "channel_created": _channel_created,
}


def render(
    change: ChannelEvent, channel_type: str, *, parent_user_id: str | None, now_ts: str
) -> dict[str, Any]:
    """Slack's `event` for a change in a channel of this type. `parent_user_id` is the
    author of the thread the message is in; `now_ts` stands for when it happened where the
    change does not say (a deletion, a reaction, someone leaving)."""
    return _RENDERERS[change.kind](change, _Context(channel_type, parent_user_id, now_ts))


def _ts(iso: str) -> str:
    return ts_from_micros(round(_epoch(iso) * 1_000_000))


def event_callback(
    *,
    token: str,
    team_id: str,
    api_app_id: str,
    bot_user_id: str,
    event: dict[str, Any],
    event_id: str,
    event_time: int,
) -> dict[str, Any]:
    """Slack's envelope of one event for one app (its bot the one authorization)."""
    return {
        "token": token,
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def url_verification(token: str, challenge: str) -> dict[str, Any]:
    return {"token": token, "challenge": challenge, "type": "url_verification"}
