"""Slack's Web API (`/api/{method}`) over Parley's domain.

Each method reads Slack's parameters, checks the token's scopes as Slack does, calls the
same domain function as Parley's own route, and answers in Slack's shape: HTTP 200 with
`{"ok": true, ...}` or `{"ok": false, "error": <Slack's code>}`, except a rate limit (429
with Retry-After). Nothing here decides who may do what: the domain does, and its errors
are renamed (`ChannelNotFound` is `channel_not_found`). What the token may see is what its
bot may see: a private channel the bot is not in does not exist for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from parley.domain import (
    apps,
    bookmarks,
    channels,
    ephemeral,
    messages,
    pins,
    reactions,
    scheduling,
    usergroups,
    users,
    workspaces,
)
from parley.domain.caller import Caller
from parley.domain.objects import Channel, Reminder
from parley.domain.ports import Publisher
from parley.domain.ports.scheduling import Scheduler
from parley.domain.recurrence import Recurrence
from parley.edge.schemas import CHANNEL_NAME_PATTERN, CreateChannel, PostMessage, UpdateChannel
from parley.errors import (
    AlreadyArchived,
    BlocksTooLong,
    BookmarkNotFound,
    CantArchiveGeneral,
    ChannelArchived,
    ChannelNotFound,
    Conflict,
    EmptyText,
    Forbidden,
    InvalidBlocks,
    InvalidCursor,
    InvalidRequest,
    MessageNotFound,
    NotArchived,
    NotAuthor,
    NotFound,
    NotInChannel,
    ParleyError,
    RateLimited,
    RecipientNotInChannel,
    TextTooLong,
    ThreadNotFound,
    TimeInPast,
    TimeTooFar,
    TooLarge,
    Unauthorized,
    UserNotFound,
)
from parley.ids import next_ts
from parley.limits import ID_PATTERN, TS_PATTERN
from parley.paging import offset_page
from parley.slack import reminder_times, shapes

MAX_PAGE = 200  # Parley's page size limit; Slack's larger `limit`s are served in pages of it
_ID = re.compile(ID_PATTERN)
_TS = re.compile(TS_PATTERN)
# Slack's family scopes, in the order Slack names them in `needed`.
_KINDS = {"public": "channels", "private": "groups", "group_dm": "mpim", "dm": "im"}


class SlackError(Exception):
    """An `ok: false` answer: Slack's error code and any fields Slack adds (`needed`)."""

    def __init__(self, error: str, **fields: Any) -> None:
        super().__init__(error)
        self.error = error
        self.fields = fields


@dataclass(frozen=True)
class Request:
    method: str
    params: Mapping[str, Any]  # the query string, form and JSON body merged
    token: str | None
    api_url: str  # the HTTP API's base URL, for permalinks and auth.test's url


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """One method call: the token's bot, its parameters, and where to announce changes."""

    bot: Caller
    request: Request
    publisher: Callable[[], Publisher]
    scheduler: Callable[[], Scheduler] | None = None  # scheduled messages and reminders

    @property
    def team_id(self) -> str:
        return self.bot.workspace_id or ""

    # ---------------------------------------------------------------- parameters

    def text(self, name: str) -> str | None:
        value = self.request.params.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool | int | float):
            return str(value).lower() if isinstance(value, bool) else str(value)
        if not isinstance(value, str):
            raise SlackError(
                "invalid_arguments", response_metadata=_why(f"{name} must be a string")
            )
        return value

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise SlackError(
                "invalid_arguments", response_metadata=_why(f"missing required field: {name}")
            )
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.request.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in {"1", "true", "yes"}

    def limit(self, default: int) -> int:
        value = self.request.params.get("limit")
        if value is None or value == "":
            return min(default, MAX_PAGE)
        try:
            wanted = int(str(value))
        except ValueError:
            raise SlackError("invalid_limit") from None
        if wanted < 0:
            raise SlackError("invalid_limit")
        return min(wanted or default, MAX_PAGE)

    def cursor(self) -> str | None:
        return self.text("cursor")

    def channel_id(self, name: str = "channel") -> str:
        """A channel id, or a public channel's name (`#general`, as Slack takes it)."""
        value = self.text(name)
        if value is None:
            raise SlackError("channel_not_found")
        if value.startswith("#") or not _ID.match(value):
            return self._channel_named(value.removeprefix("#"))
        return value

    def _channel_named(self, name: str) -> str:
        for found in channels.list_channels(self.bot, self.team_id):
            if found.type != "dm" and found.name == name:
                return found.id
        raise SlackError("channel_not_found")

    def ts(self, name: str, missing: str = "message_not_found") -> str:
        value = self.text(name)
        if value is None or not _TS.match(value):
            raise SlackError(missing)
        return value

    def blocks(self) -> list[Any] | None:
        """`blocks` as JSON (a list) or form-encoded (the list's JSON text); `[]` stays
        `[]` (chat.update removes the blocks with it), absent is None."""
        value = self.request.params.get("blocks")
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise SlackError("invalid_blocks_format") from None
        if not isinstance(value, list):
            raise SlackError("invalid_blocks_format")
        return value

    # ---------------------------------------------------------------- scopes

    def need(self, *scopes: str) -> None:
        """missing_scope unless the token has one of `scopes`."""
        if not any(scope in self.bot.scopes for scope in scopes):
            raise SlackError(
                "missing_scope",
                needed=",".join(scopes),
                provided=",".join(sorted(self.bot.scopes)),
            )

    def need_for(self, channel: Channel, family: str) -> None:
        """The scope of this family for this kind of channel (`groups:history` for a
        private channel)."""
        self.need(f"{_KINDS[channel.type]}:{family}")

    def visible(self, channel_id: str, family: str) -> Channel:
        """The channel as the bot sees it, once the token may read its kind."""
        found = channels.get_channel(self.bot, channel_id)
        self.need_for(found, family)
        return found


def _why(message: str) -> dict[str, list[str]]:
    return {"messages": [f"[ERROR] {message}"]}


def _family(family: str) -> tuple[str, ...]:
    return tuple(f"{kind}:{family}" for kind in _KINDS.values())


def _page(cursor: str | None) -> dict[str, str]:
    return {"next_cursor": cursor or ""}


def _draft(call: Call, text: str, thread_ts: str | None) -> PostMessage:
    """The post as Parley's route takes it, validated by the same model."""
    try:
        return PostMessage.model_validate(
            {"text": text, "threadTs": thread_ts, "blocks": call.blocks()}
        )
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(p) for p in problem.get("loc", ()))
        code = "invalid_blocks" if where.startswith("blocks") else "invalid_arguments"
        raise SlackError(code, response_metadata=_why(f"{where}: {problem['msg']}")) from None


def _message_text(call: Call) -> str:
    """`text`, or the fallback of `attachments` (which Parley shows as text)."""
    text = call.text("text")
    if text is not None:
        return text
    attachments = call.request.params.get("attachments")
    if isinstance(attachments, str):
        try:
            attachments = json.loads(attachments)
        except ValueError:
            raise SlackError("invalid_attachments") from None
    if isinstance(attachments, list):
        parts = [
            str(a.get("fallback") or a.get("text") or "")
            for a in attachments
            if isinstance(a, dict)
        ]
        return "\n".join(p for p in parts if p)
    return ""


# -------------------------------------------------------------------- the methods

Method = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Spec:
    run: Method
    scopes: tuple[str, ...] = ()  # the token needs one of these before the method runs
    errors: Mapping[type[ParleyError], str] = field(default_factory=dict)  # overrides


METHODS: dict[str, Spec] = {}


def method(
    name: str,
    *scopes: str,
    errors: Mapping[type[ParleyError], str] | None = None,
) -> Callable[[Method], Method]:
    def register(run: Method) -> Method:
        METHODS[name] = Spec(run, scopes, errors or {})
        return run

    return register


@method("auth.test")
def auth_test(call: Call) -> dict[str, Any]:
    workspace = workspaces.get_workspace(call.bot, call.team_id)
    (bot,) = users.users_by_id([call.bot.user_id])
    return {
        "url": call.request.api_url.rstrip("/") + "/",
        "team": workspace.name,
        "user": bot.name,
        "team_id": workspace.id,
        "user_id": call.bot.user_id,
        "bot_id": call.bot.user_id,
        "app_id": call.bot.app_id,
        "is_enterprise_install": False,
    }


@method("chat.postMessage", "chat:write")
def chat_post_message(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    thread_ts = call.text("thread_ts")
    draft = _draft(call, _message_text(call), thread_ts)
    if not draft.text.strip() and not draft.blocks:
        raise SlackError("no_text")
    broadcast = thread_ts is not None and call.flag("reply_broadcast")
    posted, _ = messages.post_message(
        call.bot,
        channel_id,
        draft,
        call.publisher(),
        workspace_id=call.team_id,
        subtype="thread_broadcast" if broadcast else None,
    )
    return {
        "channel": channel_id,
        "ts": posted.ts,
        "message": shapes.message(posted, call.team_id),
    }


@method("chat.update", "chat:write", errors={NotAuthor: "cant_update_message"})
def chat_update(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    ts = call.ts("ts")
    draft = _draft(call, _message_text(call), None)  # validates text and blocks as a post's
    # Without `blocks` the message keeps its blocks; `[]` removes them.
    edited = messages.edit_message(
        call.bot, channel_id, ts, draft.text, call.publisher(), blocks=draft.blocks
    )
    return {
        "channel": channel_id,
        "ts": ts,
        "text": edited.text,
        "message": shapes.message(edited, call.team_id),
    }


@method("chat.delete", "chat:write", errors={NotAuthor: "cant_delete_message"})
def chat_delete(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    ts = call.ts("ts")
    messages.delete_message(call.bot, channel_id, ts, call.publisher())
    return {"channel": channel_id, "ts": ts}


@method("chat.postEphemeral", "chat:write")
def chat_post_ephemeral(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    user_id = call.text("user")
    if user_id is None or not _ID.match(user_id):
        raise SlackError("user_not_found")
    draft = _draft(call, _message_text(call), call.text("thread_ts"))
    if not draft.text.strip() and not draft.blocks:
        raise SlackError("no_text")
    ts = ephemeral.post_ephemeral(
        call.bot,
        channel_id,
        user_id,
        draft.text,
        call.publisher(),
        thread_ts=draft.threadTs,
        blocks=draft.blocks,
    )
    return {"message_ts": ts}


@method("chat.getPermalink")
def chat_get_permalink(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    found = messages.get_message(call.bot, channel_id, call.ts("message_ts"))
    link = f"{call.request.api_url.rstrip('/')}/archives/{channel_id}/p{found.ts.replace('.', '')}"
    if found.threadTs and found.threadTs != found.ts:
        link += f"?thread_ts={found.threadTs}&cid={channel_id}"
    return {"channel": channel_id, "permalink": link}


def _conversations(call: Call, *, members_only: bool) -> dict[str, Any]:
    """conversations.list (and users.conversations, the bot's own): the conversations of
    `types` the token may read, a page of them in Slack's shape."""
    wanted = {t.strip() for t in (call.text("types") or "public_channel").split(",") if t.strip()}
    known = set(shapes.CONVERSATION_TYPES.values())
    if not wanted <= known:
        raise SlackError("invalid_types")
    for kind, slack_type in shapes.CONVERSATION_TYPES.items():
        if slack_type in wanted:
            call.need(f"{_KINDS[kind]}:read")
    found = [
        c
        for c in channels.list_channels(call.bot, call.team_id)
        if shapes.CONVERSATION_TYPES[c.type] in wanted
        and (c.isMember or not members_only)
        and not (call.flag("exclude_archived") and getattr(c, "isArchived", False))
    ]
    page, next_cursor = offset_page(found, call.limit(100), call.cursor())
    return {
        "channels": [shapes.channel(c) for c in page],
        "response_metadata": _page(next_cursor),
    }


@method("conversations.list", *_family("read"))
def conversations_list(call: Call) -> dict[str, Any]:
    return _conversations(call, members_only=False)


@method("conversations.info", *_family("read"))
def conversations_info(call: Call) -> dict[str, Any]:
    return {"channel": shapes.channel(call.visible(call.channel_id(), "read"))}


@method("conversations.members", *_family("read"))
def conversations_members(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    call.visible(channel_id, "read")
    members, next_cursor = channels.list_members(
        call.bot, channel_id, call.limit(100), call.cursor()
    )
    return {"members": [m.id for m in members], "response_metadata": _page(next_cursor)}


@method("conversations.history", *_family("history"))
def conversations_history(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    call.visible(channel_id, "history")
    inclusive = call.flag("inclusive")
    oldest = _bound(call, "oldest", inclusive, lower=True)
    latest = _bound(call, "latest", inclusive, lower=False)
    found, next_cursor = messages.list_messages(
        call.bot,
        channel_id,
        oldest=oldest,
        latest=latest,
        limit=call.limit(100),
        cursor=call.cursor(),
    )
    return {
        "messages": [shapes.message(m, call.team_id) for m in found],
        "has_more": next_cursor is not None,
        "pin_count": 0,
        "response_metadata": _page(next_cursor),
    }


def _bound(call: Call, name: str, inclusive: bool, *, lower: bool) -> str | None:
    """Slack's `oldest`/`latest` ("1732700000.000123", "1732700000", "0") as Parley's
    exclusive bound: with `inclusive`, a microsecond outside the given one."""
    value = call.text(name)
    if value is None:
        return None
    try:
        micros = int(Decimal(value) * 1_000_000)
    except (InvalidOperation, ValueError):
        raise SlackError(f"invalid_ts_{name}") from None
    if micros < 0 or micros >= 10**16:
        raise SlackError(f"invalid_ts_{name}")
    if lower and micros == 0:
        return None
    seconds, rest = divmod(micros, 1_000_000)
    ts = f"{seconds:010d}.{rest:06d}"
    if not inclusive:
        return ts
    if lower:
        seconds, rest = divmod(max(micros - 1, 0), 1_000_000)
        return f"{seconds:010d}.{rest:06d}"
    return next_ts(ts)


@method("conversations.replies", *_family("history"))
def conversations_replies(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    call.visible(channel_id, "history")
    found = messages.get_message(call.bot, channel_id, call.ts("ts", missing="thread_not_found"))
    parent_ts = found.threadTs or found.ts
    parent = (
        found if parent_ts == found.ts else messages.get_message(call.bot, channel_id, parent_ts)
    )
    cursor = call.cursor()
    replies, next_cursor = messages.list_replies(
        call.bot, channel_id, parent_ts, call.limit(100), cursor
    )
    shown = replies if cursor else [parent, *replies]
    return {
        "messages": [shapes.message(m, call.team_id) for m in shown],
        "has_more": next_cursor is not None,
        "response_metadata": _page(next_cursor),
    }


@method("conversations.join", "channels:join")
def conversations_join(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    before = channels.get_channel(call.bot, channel_id)
    if before.type != "public":
        # A private channel the bot sees is one it is in already; DMs are not joined.
        if before.isMember:
            return _already_in(before)
        raise SlackError("method_not_supported_for_channel_type")
    joined = channels.join_channel(call.bot, channel_id, call.publisher())
    return _already_in(joined) if before.isMember else {"channel": shapes.channel(joined)}


# ------------------------------------------------------------ managing conversations

_MANAGE = {
    "public": "channels:manage",
    "private": "groups:write",
    "group_dm": "mpim:write",
    "dm": "im:write",
}
_USER_ERRORS: Mapping[type[ParleyError], str] = {
    ChannelNotFound: "channel_not_found",
    NotFound: "user_not_found",
}


def _user_list(call: Call) -> list[str]:
    """`users`, Slack's comma-separated user ids."""
    value = call.text("users")
    wanted = [u.strip() for u in (value or "").split(",") if u.strip()]
    if not wanted:
        raise SlackError("users_list_not_supplied")
    if not all(_ID.match(u) for u in wanted):
        raise SlackError("user_not_found")
    return list(dict.fromkeys(wanted))


def _channel_name(call: Call) -> str:
    name = call.text("name")
    if name is None:
        raise SlackError("invalid_name_required")
    if len(name) > 80:
        raise SlackError("invalid_name_maxlength")
    if not re.fullmatch(CHANNEL_NAME_PATTERN, name):
        raise SlackError("invalid_name_specials")
    return name


def _managed(call: Call, channel_id: str) -> Channel:
    """A channel the bot sees, once the token may manage its kind."""
    found = channels.get_channel(call.bot, channel_id)
    call.need(_MANAGE[found.type])
    return found


@method("conversations.open", "im:write", "mpim:write", errors=_USER_ERRORS)
def conversations_open(call: Call) -> dict[str, Any]:
    """The DM or group DM of the bot and `users` (made if there is none), or a DM resumed
    by its `channel`; `return_im` returns the whole conversation."""
    channel_id = call.text("channel")
    if channel_id is not None:
        opened = channels.get_channel(call.bot, channel_id)
        if opened.type not in ("dm", "group_dm"):
            raise SlackError("method_not_supported_for_channel_type")
    else:
        wanted = _user_list(call)
        others = set(wanted) - {call.bot.user_id}
        if len(others) > channels.MAX_GROUP_DM_OTHERS:
            raise SlackError("too_many_users")
        if not others:
            raise SlackError("not_enough_users")
        call.need("im:write" if len(others) == 1 else "mpim:write")
        opened = channels.open_direct_message(
            call.bot, call.team_id, sorted(others), call.publisher()
        )
    if call.flag("return_im"):
        return {"channel": shapes.channel(opened)}
    return {"channel": {"id": opened.id}}


@method("conversations.create", "channels:manage", "groups:write", errors={Conflict: "name_taken"})
def conversations_create(call: Call) -> dict[str, Any]:
    name = _channel_name(call)
    private = call.flag("is_private")
    call.need("groups:write" if private else "channels:manage")
    created = channels.create_channel(
        call.bot, call.team_id, CreateChannel(name=name, private=private), call.publisher()
    )
    return {"channel": shapes.channel(created)}


@method("conversations.invite", "channels:manage", "groups:write", errors=_USER_ERRORS)
def conversations_invite(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    found = _managed(call, channel_id)
    if found.type in ("dm", "group_dm"):
        raise SlackError("method_not_supported_for_channel_type")
    wanted = _user_list(call)
    if call.bot.user_id in wanted:
        raise SlackError("cant_invite_self")
    if not found.isMember:
        raise SlackError("not_in_channel")
    channels.add_members(call.bot, channel_id, wanted, call.publisher())
    return {"channel": shapes.channel(channels.get_channel(call.bot, channel_id))}


def _change(call: Call, channel_id: str, change: UpdateChannel) -> dict[str, Any]:
    found = _managed(call, channel_id)
    if not found.isMember:
        raise SlackError("not_in_channel")
    changed = channels.update_channel(call.bot, channel_id, change, call.publisher())
    return {"channel": shapes.channel(changed)}


@method(
    "conversations.setTopic",
    "channels:manage",
    "groups:write",
    "im:write",
    "mpim:write",
)
def conversations_set_topic(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    topic = call.text("topic") or ""
    if len(topic) > 250:
        raise SlackError("too_long")
    return _change(call, channel_id, UpdateChannel(topic=topic))


@method(
    "conversations.rename",
    "channels:manage",
    "groups:write",
    errors={Conflict: "name_taken", Forbidden: "method_not_supported_for_channel_type"},
)
def conversations_rename(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    return _change(call, channel_id, UpdateChannel(name=_channel_name(call)))


@method(
    "conversations.leave",
    "channels:manage",
    "groups:write",
    "im:write",
    "mpim:write",
    errors={Forbidden: "method_not_supported_for_channel_type"},
)
def conversations_leave(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    found = _managed(call, channel_id)
    if not found.isMember:
        return {"not_in_channel": True}
    channels.leave_channel(call.bot, channel_id, call.publisher())
    return {}


@method("users.conversations", *_family("read"))
def users_conversations(call: Call) -> dict[str, Any]:
    """The conversations the bot is a member of (`user`, if given, must be the bot: Parley
    does not show a bot another user's channels)."""
    user = call.text("user")
    if user is not None and user != call.bot.user_id:
        raise SlackError("user_not_found")
    return _conversations(call, members_only=True)


@method("team.info", "team:read")
def team_info(call: Call) -> dict[str, Any]:
    workspace = workspaces.get_workspace(call.bot, call.team_id)
    return {
        "team": {
            "id": workspace.id,
            "name": workspace.name,
            "domain": re.sub(r"[^a-z0-9-]+", "-", workspace.name.lower()).strip("-")
            or workspace.id.lower(),
            "email_domain": "",
            "icon": {"image_default": True},
        }
    }


def _already_in(found: Channel) -> dict[str, Any]:
    return {
        "channel": shapes.channel(found),
        "warning": "already_in_channel",
        "response_metadata": {"warnings": ["already_in_channel"]},
    }


def _react(call: Call, *, add: bool) -> dict[str, Any]:
    channel_id = call.channel_id()
    name = call.text("name")
    if name is None:
        raise SlackError("invalid_name")
    _, changed = reactions.react(
        call.bot, channel_id, call.ts("timestamp"), name.strip(":"), call.publisher(), add=add
    )
    if not changed:
        raise SlackError("already_reacted" if add else "no_reaction")
    return {}


@method("reactions.add", "reactions:write", errors={InvalidRequest: "invalid_name"})
def reactions_add(call: Call) -> dict[str, Any]:
    return _react(call, add=True)


@method("reactions.remove", "reactions:write", errors={InvalidRequest: "invalid_name"})
def reactions_remove(call: Call) -> dict[str, Any]:
    return _react(call, add=False)


@method("reactions.get", "reactions:read")
def reactions_get(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    found = messages.get_message(call.bot, channel_id, call.ts("timestamp"))
    return {
        "type": "message",
        "channel": channel_id,
        "message": shapes.message(found, call.team_id),
    }


def _pin(call: Call, *, pinned: bool) -> dict[str, Any]:
    channel_id = call.channel_id()
    changed = pins.set_pin(
        call.bot, channel_id, call.ts("timestamp"), call.publisher(), pinned=pinned
    )
    if not changed:
        raise SlackError("already_pinned" if pinned else "no_pin")
    return {}


@method("pins.add", "pins:write")
def pins_add(call: Call) -> dict[str, Any]:
    return _pin(call, pinned=True)


@method("pins.remove", "pins:write")
def pins_remove(call: Call) -> dict[str, Any]:
    return _pin(call, pinned=False)


def _user_id(call: Call) -> str:
    value = call.text("user")
    if value is None or not _ID.match(value):
        raise SlackError("user_not_found")
    return value


@method("users.info", "users:read")
def users_info(call: Call) -> dict[str, Any]:
    member = workspaces.get_member(call.bot, call.team_id, _user_id(call))
    with_email = "users:read.email" in call.bot.scopes
    return {"user": shapes.user(member, call.team_id, with_email=with_email)}


@method("users.list", "users:read")
def users_list(call: Call) -> dict[str, Any]:
    members, next_cursor = workspaces.list_members(
        call.bot, call.team_id, call.limit(MAX_PAGE), call.cursor()
    )
    with_email = "users:read.email" in call.bot.scopes
    return {
        "members": [shapes.user(m, call.team_id, with_email=with_email) for m in members],
        "cache_ts": 0,
        "response_metadata": _page(next_cursor),
    }


@method("users.lookupByEmail", "users:read.email", errors={UserNotFound: "users_not_found"})
def users_lookup_by_email(call: Call) -> dict[str, Any]:
    email = call.text("email")
    if email is None or "@" not in email or len(email) > 254:
        raise SlackError("users_not_found")
    member = workspaces.find_member_by_email(call.bot, call.team_id, email)
    return {"user": shapes.user(member, call.team_id, with_email=True)}


# -------------------------------------------------------------------- user groups


def _handle_of(call: Call, name: str) -> str:
    """`handle`, or one made of the name as Slack suggests it (lower case, dashes)."""
    handle = call.text("handle")
    if handle is None:
        handle = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-")[:80]
    if not usergroups.HANDLE.match(handle):
        raise SlackError("invalid_handle" if call.text("handle") else "missing_handle")
    return handle


def _users_param(call: Call) -> list[str]:
    """`users`: Slack's comma-separated list of user ids (or a JSON list)."""
    value = call.request.params.get("users")
    if isinstance(value, list):
        given = [str(v) for v in value]
    elif isinstance(value, str):
        given = [u.strip() for u in value.split(",") if u.strip()]
    else:
        raise SlackError("invalid_users")
    if not given or not all(_ID.match(u) for u in given):
        raise SlackError("invalid_users")
    return given


def _usergroup_id(call: Call) -> str:
    value = call.text("usergroup")
    if value is None or not _ID.match(value):
        raise SlackError("no_such_subteam")
    return value


_GROUP_ERRORS: Mapping[type[ParleyError], str] = {
    NotFound: "no_such_subteam",
    Conflict: "name_already_exists",
    Forbidden: "permission_denied",
    InvalidRequest: "invalid_arguments",
}


@method("usergroups.create", "usergroups:write", errors=_GROUP_ERRORS)
def usergroups_create(call: Call) -> dict[str, Any]:
    name = call.required("name")
    created = usergroups.create(
        call.bot, call.team_id, handle=_handle_of(call, name), name=name, user_ids=[]
    )
    return {"usergroup": shapes.usergroup(created, call.team_id, with_users=False)}


@method("usergroups.list", "usergroups:read", errors=_GROUP_ERRORS)
def usergroups_list(call: Call) -> dict[str, Any]:
    with_users = call.flag("include_users")
    found = usergroups.list_groups(
        call.bot, call.team_id, include_disabled=call.flag("include_disabled")
    )
    return {"usergroups": [shapes.usergroup(g, call.team_id, with_users=with_users) for g in found]}


@method("usergroups.update", "usergroups:write", errors=_GROUP_ERRORS)
def usergroups_update(call: Call) -> dict[str, Any]:
    handle = call.text("handle")
    if handle is not None and not usergroups.HANDLE.match(handle):
        raise SlackError("invalid_handle")
    changed = usergroups.update(
        call.bot, _usergroup_id(call), handle=handle, name=call.text("name")
    )
    return {"usergroup": shapes.usergroup(changed, call.team_id, with_users=True)}


@method("usergroups.disable", "usergroups:write", errors=_GROUP_ERRORS)
def usergroups_disable(call: Call) -> dict[str, Any]:
    """Disabling a disabled group is ok (Slack documents no error for it)."""
    changed = usergroups.disable(call.bot, _usergroup_id(call))
    return {"usergroup": shapes.usergroup(changed, call.team_id, with_users=False)}


@method("usergroups.enable", "usergroups:write", errors=_GROUP_ERRORS)
def usergroups_enable(call: Call) -> dict[str, Any]:
    changed = usergroups.enable(call.bot, _usergroup_id(call))
    return {"usergroup": shapes.usergroup(changed, call.team_id, with_users=False)}


@method("usergroups.users.list", "usergroups:read", errors=_GROUP_ERRORS)
def usergroups_users_list(call: Call) -> dict[str, Any]:
    """A disabled group's users only with `include_disabled`, as Slack's argument says."""
    group = usergroups.get(
        call.bot, _usergroup_id(call), include_disabled=call.flag("include_disabled")
    )
    return {"users": group.userIds}


@method("usergroups.users.update", "usergroups:write", errors=_GROUP_ERRORS)
def usergroups_users_update(call: Call) -> dict[str, Any]:
    changed = usergroups.update(call.bot, _usergroup_id(call), user_ids=_users_param(call))
    return {"usergroup": shapes.usergroup(changed, call.team_id, with_users=True)}


# -------------------------------------------------------------------- bookmarks

_BOOKMARK_ERRORS: Mapping[type[ParleyError], str] = {
    BookmarkNotFound: "not_found",
    InvalidRequest: "invalid_arguments",
}


def _bookmark_link(call: Call, *, required: bool) -> str | None:
    """`link`, which must begin with http:// or https:// (Slack's invalid_link)."""
    link = call.text("link")
    if link is None:
        if required:
            raise SlackError("invalid_link")
        return None
    try:
        return bookmarks.checked_link(link)
    except InvalidRequest:
        raise SlackError("invalid_link") from None


def _bookmark_emoji(call: Call) -> str | None:
    emoji = call.text("emoji")
    if emoji is not None and not bookmarks.EMOJI.match(emoji):
        raise SlackError("invalid_emoji")
    return emoji


def _bookmark_id(call: Call) -> str:
    value = call.text("bookmark_id")
    if value is None:
        raise SlackError(
            "invalid_arguments", response_metadata=_why("missing required field: bookmark_id")
        )
    if not _ID.match(value):
        raise SlackError("not_found")
    return value


def _bookmark_channel(call: Call) -> str:
    """`channel_id`: the channel Slack's bookmarks methods name, which the bot must see."""
    channel_id = call.channel_id("channel_id")
    found = channels.get_channel(call.bot, channel_id)
    if not found.isMember:
        raise SlackError("not_in_channel")
    return channel_id


@method("bookmarks.add", "bookmarks:write", errors=_BOOKMARK_ERRORS)
def bookmarks_add(call: Call) -> dict[str, Any]:
    channel_id = _bookmark_channel(call)
    title = call.required("title")
    if call.required("type") != "link":
        raise SlackError("invalid_bookmark_type")
    link = _bookmark_link(call, required=True)
    assert link is not None  # required above
    if len(bookmarks.list_bookmarks(call.bot, channel_id)) >= bookmarks.MAX_PER_CHANNEL:
        raise SlackError("too_many_tabs")
    added = bookmarks.add(
        call.bot, channel_id, call.publisher(), title=title, link=link, emoji=_bookmark_emoji(call)
    )
    return {"bookmark": shapes.bookmark(added, call.team_id)}


@method("bookmarks.edit", "bookmarks:write", errors=_BOOKMARK_ERRORS)
def bookmarks_edit(call: Call) -> dict[str, Any]:
    channel_id = _bookmark_channel(call)
    emoji_given = "emoji" in call.request.params
    changed = bookmarks.update(
        call.bot,
        _bookmark_id(call),
        call.publisher(),
        channel_id=channel_id,
        title=call.text("title"),
        link=_bookmark_link(call, required=False),
        emoji=_bookmark_emoji(call),
        change_emoji=emoji_given,
    )
    return {"bookmark": shapes.bookmark(changed, call.team_id)}


@method("bookmarks.list", "bookmarks:read", errors=_BOOKMARK_ERRORS)
def bookmarks_list(call: Call) -> dict[str, Any]:
    channel_id = _bookmark_channel(call)
    found = bookmarks.list_bookmarks(call.bot, channel_id)
    return {"bookmarks": [shapes.bookmark(b, call.team_id) for b in found]}


@method("bookmarks.remove", "bookmarks:write", errors=_BOOKMARK_ERRORS)
def bookmarks_remove(call: Call) -> dict[str, Any]:
    channel_id = _bookmark_channel(call)
    bookmarks.remove(call.bot, _bookmark_id(call), call.publisher(), channel_id=channel_id)
    return {}


# -------------------------------------------------------------------- archiving

_ARCHIVE_ERRORS: Mapping[type[ParleyError], str] = {
    AlreadyArchived: "already_archived",
    NotArchived: "not_archived",
    CantArchiveGeneral: "cant_archive_general",
    NotInChannel: "not_in_channel",
    Forbidden: "restricted_action",
}
# The scope of each kind of channel that archiving needs, as Slack names them.
_MANAGE = {"public": "channels:manage", "private": "groups:write"}


def _set_archived(call: Call, *, archived: bool) -> dict[str, Any]:
    channel_id = call.channel_id()
    found = channels.get_channel(call.bot, channel_id)
    if found.type not in _MANAGE:
        raise SlackError("method_not_supported_for_channel_type")
    call.need(_MANAGE[found.type])
    channels.set_archived(call.bot, channel_id, call.publisher(), archived=archived)
    return {}


@method("conversations.archive", *_MANAGE.values(), errors=_ARCHIVE_ERRORS)
def conversations_archive(call: Call) -> dict[str, Any]:
    return _set_archived(call, archived=True)


@method("conversations.unarchive", *_MANAGE.values(), errors=_ARCHIVE_ERRORS)
def conversations_unarchive(call: Call) -> dict[str, Any]:
    return _set_archived(call, archived=False)


# -------------------------------------------------------------------- scheduling


def _scheduler(call: Call) -> Scheduler:
    if call.scheduler is None:
        raise RuntimeError("no scheduler is configured for the Slack API")
    return call.scheduler()


def _epoch(iso_time: str) -> int:
    return int(datetime.fromisoformat(iso_time).timestamp())


def _unix_time(call: Call, name: str, missing: str, bad: str) -> datetime:
    """Unix seconds (Slack's), or an absolute ISO 8601 time; an offset-less one is UTC."""
    value = call.text(name)
    if value is None:
        raise SlackError(missing)
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise SlackError(bad) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_SCHEDULE_ERRORS: Mapping[type[ParleyError], str] = {
    TimeInPast: "time_in_past",
    TimeTooFar: "time_too_far",
}


@method("chat.scheduleMessage", "chat:write", errors=_SCHEDULE_ERRORS)
def chat_schedule_message(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    text = call.text("text")
    if text is None or not text.strip():
        raise SlackError("no_text")
    post_at = _unix_time(call, "post_at", "invalid_time", "invalid_time")
    thread_ts = call.text("thread_ts")
    if thread_ts is not None and not _TS.match(thread_ts):
        raise SlackError("thread_not_found")
    scheduled = scheduling.schedule_message(
        call.bot,
        channel_id,
        text=text,
        post_at=post_at,
        thread_ts=thread_ts,
        scheduler=_scheduler(call),
    )
    return {
        "channel": channel_id,
        "scheduled_message_id": scheduled.id,
        "post_at": _epoch(scheduled.postAt),
        "message": {
            "type": "delayed_message",
            "text": scheduled.text,
            "user": call.bot.user_id,
            "bot_id": call.bot.user_id,
            "team": call.team_id,
            **({"thread_ts": scheduled.threadTs} if scheduled.threadTs else {}),
        },
    }


@method(
    "chat.deleteScheduledMessage",
    "chat:write",
    errors={NotFound: "invalid_scheduled_message_id"},
)
def chat_delete_scheduled_message(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id()
    scheduled_id = call.text("scheduled_message_id")
    if scheduled_id is None:
        raise SlackError("invalid_scheduled_message_id")
    # The id must be of that channel, as Slack checks it.
    if scheduling.get_scheduled(call.bot, scheduled_id).channelId != channel_id:
        raise SlackError("invalid_scheduled_message_id")
    scheduling.cancel_scheduled(call.bot, scheduled_id, _scheduler(call))
    return {}


def _seconds(call: Call, name: str) -> float | None:
    value = call.text(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise SlackError(
            "invalid_arguments", response_metadata=_why(f"{name}: unix seconds")
        ) from None


@method("chat.scheduledMessages.list", "chat:write")
def chat_scheduled_messages_list(call: Call) -> dict[str, Any]:
    channel_id = call.channel_id() if call.text("channel") else None
    oldest, latest = _seconds(call, "oldest"), _seconds(call, "latest")
    found, next_cursor = scheduling.list_scheduled(
        call.bot, call.limit(100), call.cursor(), channel_id
    )
    listed = []
    for item in found:
        post_at = _epoch(item.postAt)
        if (oldest is not None and post_at < oldest) or (latest is not None and post_at > latest):
            continue
        listed.append(
            {
                "id": item.id,
                "channel_id": item.channelId,
                "post_at": post_at,
                "date_created": post_at,
                "text": item.text,
            }
        )
    return {"scheduled_messages": listed, "response_metadata": _page(next_cursor)}


def _reminder(reminder: Reminder, user_id: str) -> dict[str, Any]:
    """A reminder as Slack's reminders methods return it: a recurring one with its
    `recurrence` and no `complete_ts`; `time` is its next occurrence."""
    recurring = {"recurrence": reminder.recurrence} if reminder.recurrence else {"complete_ts": 0}
    return {
        "id": reminder.id,
        "creator": user_id,
        "user": user_id,
        "text": reminder.text,
        "recurring": reminder.recurrence is not None,
        "time": _epoch(reminder.at),
        **recurring,
        **({"channel": reminder.channelId} if reminder.channelId else {}),
    }


def _reminder_time(call: Call) -> tuple[datetime, Recurrence | None]:
    """`time` as Slack reads it (parley.slack.reminder_times), and `recurrence` (a JSON
    object, or its text in a form) where given: it wins over the words' own."""
    value = call.text("time")
    if value is None:
        raise SlackError(
            "invalid_arguments", response_metadata=_why("missing required field: time")
        )
    parsed = reminder_times.parse(value, datetime.now(UTC))
    if parsed is None:
        raise SlackError("cannot_parse")
    at, recurrence = parsed
    given = call.request.params.get("recurrence")
    if given is not None and given != "":
        try:
            recurrence = Recurrence.of(json.loads(given) if isinstance(given, str) else given)
        except (ValueError, InvalidRequest) as bad:
            raise SlackError(
                "invalid_arguments", response_metadata=_why(f"recurrence: {bad}")
            ) from None
    return at, recurrence


_REMINDER_ERRORS: Mapping[type[ParleyError], str] = {
    TimeInPast: "time_in_past",
    TimeTooFar: "cannot_parse",
    NotFound: "not_found",
}


@method("reminders.add", "reminders:write", errors=_REMINDER_ERRORS)
def reminders_add(call: Call) -> dict[str, Any]:
    text = call.text("text")
    if text is None or not text.strip():
        raise SlackError("no_text")
    user = call.text("user")
    if user is not None and user != call.bot.user_id:
        raise SlackError("cannot_add_others")
    at, recurrence = _reminder_time(call)
    reminder = scheduling.add_reminder(
        call.bot,
        text=text,
        at=at,
        channel_id=None,
        ts=None,
        scheduler=_scheduler(call),
        recurrence=recurrence,
    )
    return {"reminder": _reminder(reminder, call.bot.user_id)}


@method("reminders.info", "reminders:read", errors=_REMINDER_ERRORS)
def reminders_info(call: Call) -> dict[str, Any]:
    reminder = scheduling.get_reminder(call.bot, call.text("reminder") or "")
    return {"reminder": _reminder(reminder, call.bot.user_id)}


@method("reminders.complete", "reminders:write", errors=_REMINDER_ERRORS)
def reminders_complete(call: Call) -> dict[str, Any]:
    """Done before its time: a one-time reminder leaves the pending list (and will not
    fire); a recurring one cannot be completed, as in Slack."""
    reminder_id = call.text("reminder") or ""
    if scheduling.get_reminder(call.bot, reminder_id).recurrence is not None:
        raise SlackError("cannot_complete_recurring")
    scheduling.delete_reminder(call.bot, reminder_id, _scheduler(call))
    return {}


@method("reminders.list", "reminders:read", errors=_REMINDER_ERRORS)
def reminders_list(call: Call) -> dict[str, Any]:
    found, _ = scheduling.list_reminders(call.bot, MAX_PAGE, None)
    return {"reminders": [_reminder(r, call.bot.user_id) for r in found]}


@method("reminders.delete", "reminders:write", errors=_REMINDER_ERRORS)
def reminders_delete(call: Call) -> dict[str, Any]:
    reminder_id = call.text("reminder")
    if reminder_id is None:
        raise SlackError("not_found")
    scheduling.delete_reminder(call.bot, reminder_id, _scheduler(call))
    return {}


# -------------------------------------------------------------------- errors and the entry

# Parley's errors by kind as Slack's codes, most specific first (a method may override).
_ERROR_CODES: tuple[tuple[type[ParleyError], str], ...] = (
    (ChannelNotFound, "channel_not_found"),
    (ChannelArchived, "is_archived"),
    (ThreadNotFound, "thread_not_found"),
    (MessageNotFound, "message_not_found"),
    (UserNotFound, "user_not_found"),
    (RecipientNotInChannel, "user_not_in_channel"),
    (NotInChannel, "not_in_channel"),
    (NotAuthor, "cant_update_message"),
    (EmptyText, "no_text"),
    (TextTooLong, "msg_too_long"),
    (InvalidBlocks, "invalid_blocks"),
    (BlocksTooLong, "msg_blocks_too_long"),
    (InvalidCursor, "invalid_cursor"),
    (Unauthorized, "invalid_auth"),
    (TooLarge, "msg_too_long"),
    (NotFound, "not_found"),
    (Forbidden, "restricted_action"),
    (Conflict, "conflict"),
    (InvalidRequest, "invalid_arguments"),
)


def slack_code(error: ParleyError, overrides: Mapping[type[ParleyError], str]) -> str:
    for kinds in (tuple(overrides.items()), _ERROR_CODES):
        for kind, code in kinds:
            if isinstance(error, kind):
                return code
    return "invalid_arguments"


def handle(
    request: Request,
    publisher: Callable[[], Publisher],
    scheduler: Callable[[], Scheduler] | None = None,
) -> Reply:
    """One Web API call, answered as Slack answers it."""
    spec = METHODS.get(request.method)
    if spec is None:
        return Reply(200, {"ok": False, "error": "unknown_method"})
    if not request.token:
        return Reply(200, {"ok": False, "error": "not_authed"})
    try:
        bot = apps.authenticate(request.token)
    except Unauthorized:
        return Reply(200, {"ok": False, "error": "invalid_auth"})
    headers = {
        "X-OAuth-Scopes": ",".join(sorted(bot.scopes)),
        "X-Accepted-OAuth-Scopes": ",".join(spec.scopes),
    }
    call = Call(bot, request, publisher, scheduler)
    try:
        if spec.scopes:
            call.need(*spec.scopes)
        body = {"ok": True, **spec.run(call)}
    except SlackError as refused:
        body = {"ok": False, "error": refused.error, **refused.fields}
    except RateLimited as limited:
        headers["Retry-After"] = str(limited.retry_after)
        return Reply(429, {"ok": False, "error": "ratelimited"}, headers)
    except ParleyError as error:
        body = {"ok": False, "error": slack_code(error, spec.errors)}
        if isinstance(error, InvalidRequest) and body["error"] == "invalid_arguments":
            body["response_metadata"] = _why(error.message)
    except ValidationError as error:
        body = {"ok": False, "error": "invalid_arguments", "response_metadata": _why(str(error))}
    return Reply(200, body, headers)
