"""From a Slack export's users, conversations and messages to Parley's: pure functions.

Users. A person is matched by `profile.email`, lowercased, to a Parley user the caller
names (`existing_by_email`); Slack users sharing an email are one person (Zulip's importer
merges them likewise). Anyone else becomes a placeholder user, which a person signing up
with that email later claims. A bot user (`is_bot`, and Slackbot) becomes one Parley bot
per `bot_id`, its user id and its bot id both mapping to it. Ids the import creates are
derived from the workspace, the export's team and the Slack id (`derived_id`), so a re-run,
or a redelivered chunk meeting an author users.json lacks, maps everyone the same way; the
workspace is part of the derivation, so a crafted export cannot reach the ids of another
workspace's import.

Conversations. A public channel whose name the workspace already has as a public channel
is merged into it (its history and members join it: it is public already). Any other
clash (a private channel, or a public channel against a private one) gets a new channel
named `{name}-imported` (then `-imported-2`, ...): merging into an existing private channel
would show its history to the export's members, and the export's private history to the
channel's. A channel this import created on an earlier run is known by its derived id and
kept under its current name. DMs and group DMs have no name to clash; the import function
opens them by their members as Parley does, which finds an existing DM of the same people.
A group DM of more members than Parley's group DMs take becomes a private channel.

Messages. `map_message` keeps a message's `ts`, its thread (`thread_ts`, None for a thread's
root and for a message outside threads), its author (a bot's post, a `bot_message` or an
app's post by a user users.json lacks, names its bot id), reactions with their users, `edited`,
and `bot_message` and `thread_broadcast` as subtypes. Joins, leaves, topic, purpose and name
changes, pins, archiving and the like are no messages (None). `file_share`, `me_message`,
`tombstone` (a deleted thread root, kept so that its replies keep their thread) and any
subtype not listed become ordinary messages. Reply counts are not read: the import counts
the replies it wrote. Blocks are dropped: a rich-text message's `text` holds the same words
and markup (a message with only attachments takes their fallback text, as Parley's Slack
edge shows them).

Text. `<@U…>` (with or without `|name`) becomes `<@{Parley user id}>`, `<#C…>` becomes
`<#{Parley channel id}>`; an id the maps lack is left as it was, as are `<!here>`,
`<!channel>`, `<!everyone>`, links and every other `<…>` token. Outside the tokens, Slack's
three escapes (`&amp;`, `&lt;`, `&gt;`) are undone, so the text reads and is searched as
it was written. A file becomes a line under the text, `📎 name (type, size)`: the export
holds no file content, and a line reads in every client and is found by search; `files`
keeps the same as data for the import's counts.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from parley.domain.reactions import MAX_REACTION_NAMES, REACTION_NAME
from parley.ids import _ALPHABET  # Parley's id alphabet, that derived ids look like new_id's
from parley.imports.slack_export import Conversation, Kind, SlackUser, scrub
from parley.limits import MAX_TEXT_CHARS, TS_PATTERN

MAX_GROUP_DM_MEMBERS = 9  # the caller and 8 others (parley.domain.channels)
MAX_CHANNEL_NAME = 80  # parley.edge.schemas.CHANNEL_NAME_PATTERN
IMPORTED_SUFFIX = "-imported"

# Slack's notices of what happened to a conversation, which Parley keeps elsewhere (members,
# topic, pins) or not at all.
SKIPPED_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "group_join",
        "group_leave",
        "channel_topic",
        "group_topic",
        "channel_purpose",
        "group_purpose",
        "channel_name",
        "group_name",
        "channel_archive",
        "channel_unarchive",
        "group_archive",
        "group_unarchive",
        "channel_convert_to_private",
        "channel_convert_to_public",
        "channel_posting_permissions",
        "pinned_item",
        "unpinned_item",
        "bot_add",
        "bot_remove",
        "bot_enable",
        "bot_disable",
        "reminder_add",
        "joiner_notification",
        "joiner_notification_for_inviter",
        "sh_room_created",
        "message_changed",
        "message_deleted",
        "message_replied",
        "ekm_access_denied",
    }
)
KEPT_SUBTYPES = frozenset({"bot_message", "thread_broadcast"})
_HIDDEN_FILE_MODES = frozenset({"tombstone", "hidden_by_limit"})
_DENIED_FILE_ACCESS = frozenset({"access_denied", "file_not_found"})

_TS = re.compile(TS_PATTERN)
_SLACK_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
_TOKEN = re.compile(r"<([^<>]*)>")
_ESCAPE = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}
_NOT_IN_NAME = re.compile(r"[^a-z0-9_-]+")


class InvalidMessage(ValueError):
    """A message that cannot be imported (no `ts`, no author); the import counts it as an
    error and goes on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ImportedFile:
    name: str
    kind: str | None  # Slack's filetype ("pdf"), else its pretty type or MIME type
    size: int | None  # bytes


@dataclass(frozen=True, slots=True)
class ImportedMessage:
    ts: str
    thread_ts: str | None  # the root's ts for a reply; None for a root or a lone message
    user: str  # the author's Slack id: a user id (U…, W…) or, for a bot's post, its bot id
    text: str  # rewritten, with a line per file
    subtype: str | None  # "bot_message", "thread_broadcast" or None
    reactions: tuple[tuple[str, tuple[str, ...]], ...]  # (name, Slack user ids)
    edited_ts: str | None
    files: tuple[ImportedFile, ...]
    bot_id: str | None
    bot_name: str | None  # `username` or `bot_profile.name`, for a bot users.json lacks

    @property
    def by_bot(self) -> bool:
        return self.bot_id is not None and self.user == self.bot_id


# --- ids ---------------------------------------------------------------------------------


def derived_id(prefix: str, *parts: str) -> str:
    """`prefix` and 10 characters of Parley's alphabet from a SHA-256 of `parts`."""
    digest = hashlib.sha256("\x1f".join(("parley-import", *parts)).encode()).digest()
    bits = int.from_bytes(digest[:8], "big") >> 14  # 50 bits, 5 a character
    return prefix + "".join(_ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(10)))


def placeholder_user_id(workspace_id: str, team_id: str, slack_user_id: str) -> str:
    return derived_id("U", "user", workspace_id, team_id, slack_user_id)


def bot_user_id(workspace_id: str, team_id: str, bot_key: str) -> str:
    return derived_id("B", "bot", workspace_id, team_id, bot_key)


def imported_channel_id(workspace_id: str, team_id: str, conversation_id: str, kind: Kind) -> str:
    prefix = "D" if kind in ("dm", "group_dm") else "C"
    return derived_id(prefix, "channel", workspace_id, team_id, conversation_id)


# --- users -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserPlan:
    parley_id: str
    kind: Literal["existing", "placeholder", "bot"]
    slack_ids: tuple[str, ...]  # every Slack id (users' and bots') that maps to it
    name: str
    email: str | None  # lowercased; a placeholder's claim key
    deleted: bool  # every Slack account behind it is deactivated


@dataclass(frozen=True, slots=True)
class UserMap:
    workspace_id: str
    team_id: str
    plans: Mapping[str, UserPlan]  # by Parley id, in users.json's order
    ids: Mapping[str, str]  # Slack user or bot id -> Parley user id (map_message's `users`)

    def resolve(self, slack_id: str, *, bot: bool = False, name: str | None = None) -> UserPlan:
        """The plan of an author: users.json's, or the placeholder (or bot, for a bot id)
        of one it lacks, the same in every chunk that meets them."""
        parley_id = self.ids.get(slack_id)
        if parley_id is not None:
            return self.plans[parley_id]
        derive = bot_user_id if bot else placeholder_user_id
        return UserPlan(
            parley_id=derive(self.workspace_id, self.team_id, slack_id),
            kind="bot" if bot else "placeholder",
            slack_ids=(slack_id,),
            name=name or slack_id,
            email=None,
            deleted=False,
        )


def _email_key(email: str | None) -> str | None:
    return email.strip().lower() if email and "@" in email else None


def plan_users(
    users: Sequence[SlackUser],
    *,
    workspace_id: str,
    team_id: str,
    existing_by_email: Mapping[str, str],
) -> UserMap:
    """Who each Slack user becomes. `existing_by_email`: Parley users' emails (any case) and
    ids, the workspace's members and any other Parley users the caller will add to it."""
    existing = {e.strip().lower(): uid for e, uid in existing_by_email.items()}
    by_email: dict[str, list[SlackUser]] = {}
    for user in users:
        key = _email_key(user.email)
        if key is not None and not user.is_bot:
            by_email.setdefault(key, []).append(user)
    grouped: dict[str, list[SlackUser]] = {}  # Parley id -> its Slack users, in export order
    kinds: dict[str, Literal["existing", "placeholder", "bot"]] = {}
    extra_ids: dict[str, list[str]] = {}  # a bot's bot_id beside its user id
    kind: Literal["existing", "placeholder", "bot"]
    for user in users:
        key = _email_key(user.email)
        if user.is_bot:
            bot_key = user.bot_id or user.id
            parley_id, kind = bot_user_id(workspace_id, team_id, bot_key), "bot"
            extra_ids.setdefault(parley_id, []).append(bot_key)
        elif key is not None and key in existing:
            parley_id, kind = existing[key], "existing"
        elif key is not None:  # the smallest Slack id of the email names the placeholder
            first = min(u.id for u in by_email[key])
            parley_id, kind = placeholder_user_id(workspace_id, team_id, first), "placeholder"
        else:
            parley_id, kind = placeholder_user_id(workspace_id, team_id, user.id), "placeholder"
        grouped.setdefault(parley_id, []).append(user)
        kinds[parley_id] = kind
    plans: dict[str, UserPlan] = {}
    ids: dict[str, str] = {}
    for parley_id, accounts in grouped.items():
        slack_ids = tuple(dict.fromkeys([*(u.id for u in accounts), *extra_ids.get(parley_id, [])]))
        named = next((u for u in accounts if not u.deleted), accounts[0])
        plans[parley_id] = UserPlan(
            parley_id=parley_id,
            kind=kinds[parley_id],
            slack_ids=slack_ids,
            name=named.real_name,
            email=None if kinds[parley_id] == "bot" else _email_key(named.email),
            deleted=all(u.deleted for u in accounts),
        )
        ids.update(dict.fromkeys(slack_ids, parley_id))
    return UserMap(workspace_id, team_id, plans, ids)


# --- channels ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExistingChannel:
    channel_id: str
    name: str
    kind: str  # "public", "private", "dm" or "group_dm"


@dataclass(frozen=True, slots=True)
class ChannelPlan:
    slack_id: str
    parley_id: str
    kind: Kind
    name: str | None  # None for DMs and group DMs
    merged: bool  # into an existing channel that no run of this import created


def channel_name(slack_name: str, fallback: str) -> str:
    """A Slack name in Parley's form (`[a-z0-9_-]{1,80}`): lowercased, other characters as
    dashes; a name with nothing left (all of it in another script) is the Slack id's."""
    folded = unicodedata.normalize("NFKC", slack_name).lower()
    name = _NOT_IN_NAME.sub("-", folded).strip("-")[:MAX_CHANNEL_NAME].strip("-")
    return name or _NOT_IN_NAME.sub("-", fallback.lower())[:MAX_CHANNEL_NAME]


def _free_name(base: str, taken: Mapping[str, object]) -> str:
    for n in range(1, len(taken) + 2):
        suffix = IMPORTED_SUFFIX if n == 1 else f"{IMPORTED_SUFFIX}-{n}"
        candidate = base[: MAX_CHANNEL_NAME - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable: more candidates than taken names")


def plan_channels(
    conversations: Iterable[Conversation],
    *,
    workspace_id: str,
    team_id: str,
    existing: Iterable[ExistingChannel],
) -> list[ChannelPlan]:
    """Where each conversation goes (the module's docstring says the rule), in order."""
    known = list(existing)
    by_id = {c.channel_id: c for c in known}
    taken: dict[str, ExistingChannel] = {c.name: c for c in known}
    claimed: set[str] = set()  # Parley ids this plan already sends a conversation to
    plans: list[ChannelPlan] = []
    for conversation in conversations:
        kind: Kind = conversation.kind
        if kind == "group_dm" and len(conversation.members) > MAX_GROUP_DM_MEMBERS:
            kind = "private"
        own_id = imported_channel_id(workspace_id, team_id, conversation.id, kind)
        if kind in ("dm", "group_dm"):
            plan = ChannelPlan(conversation.id, own_id, kind, None, merged=False)
        elif own_id in by_id:  # created by an earlier run of this import
            plan = ChannelPlan(conversation.id, own_id, kind, by_id[own_id].name, merged=False)
        else:
            base = channel_name(conversation.name or "", conversation.id)
            clash = taken.get(base)
            if clash is None:
                plan = ChannelPlan(conversation.id, own_id, kind, base, merged=False)
            elif kind == "public" and clash.kind == "public" and clash.channel_id not in claimed:
                plan = ChannelPlan(conversation.id, clash.channel_id, kind, base, merged=True)
            else:
                plan = ChannelPlan(conversation.id, own_id, kind, _free_name(base, taken), False)
            if plan.name is not None and plan.name not in taken:
                taken[plan.name] = ExistingChannel(plan.parley_id, plan.name, kind)
        claimed.add(plan.parley_id)
        plans.append(plan)
    return plans


# --- messages ----------------------------------------------------------------------------


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: _UNESCAPED[m.group(1)], text)


def _rewritten_token(inner: str, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    if inner[:1] in ("@", "#"):
        ref = inner[1:].split("|", 1)[0]
        target = (users if inner[0] == "@" else channels).get(ref)
        if target is not None:
            return f"<{inner[0]}{target}>"
    return f"<{inner}>"


def rewrite_text(text: str, *, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    """Slack ids in mentions and channel links to Parley's; the text between tokens
    unescaped (see the module's docstring)."""
    parts: list[str] = []
    at = 0
    for token in _TOKEN.finditer(text):
        parts.append(_unescape(text[at : token.start()]))
        parts.append(_rewritten_token(token.group(1), users, channels))
        at = token.end()
    parts.append(_unescape(text[at:]))
    return "".join(parts)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


def file_note(file: ImportedFile) -> str:
    details = [d for d in (file.kind, None if file.size is None else human_size(file.size)) if d]
    return f"📎 {file.name} ({', '.join(details)})" if details else f"📎 {file.name}"


def _files(raw: Mapping[str, Any]) -> tuple[ImportedFile, ...]:
    listed = raw.get("files")
    if not isinstance(listed, list):  # before 2019, a file_share held one `file`
        listed = [raw["file"]] if isinstance(raw.get("file"), dict) else []
    files: list[ImportedFile] = []
    for entry in listed:
        if not isinstance(entry, dict):
            continue
        if (
            entry.get("mode") in _HIDDEN_FILE_MODES
            or entry.get("file_access") in _DENIED_FILE_ACCESS
        ):
            continue  # a deleted file, or one Slack's plan hides: nothing to name
        name = scrub(entry.get("name") or entry.get("title") or "").strip() or "file"
        kind = next(
            (
                scrub(entry[k]).strip()
                for k in ("filetype", "pretty_type", "mimetype")
                if isinstance(entry.get(k), str) and entry[k].strip()
            ),
            None,
        )
        size = entry.get("size")
        valid_size = (
            size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None
        )
        files.append(ImportedFile(name, kind, valid_size))
    return tuple(files)


def _reactions(raw: Mapping[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    listed = raw.get("reactions")
    users_by_name: dict[str, dict[str, None]] = {}
    for entry in listed if isinstance(listed, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        name = entry["name"]
        if not REACTION_NAME.match(name):
            continue  # not a name Parley's reactions take
        users = entry.get("users")
        ids = (
            [u for u in users if isinstance(u, str) and _SLACK_ID.match(u)]
            if isinstance(users, list)
            else []
        )
        if not ids:
            continue
        if name not in users_by_name and len(users_by_name) >= MAX_REACTION_NAMES:
            continue
        users_by_name.setdefault(name, {}).update(dict.fromkeys(ids))
    return tuple((name, tuple(users)) for name, users in users_by_name.items())


def _attachments_text(raw: Mapping[str, Any]) -> str:
    listed = raw.get("attachments")
    texts = [
        scrub(a.get("fallback") or a.get("text") or "").strip()
        for a in (listed if isinstance(listed, list) else [])
        if isinstance(a, dict)
    ]
    return "\n".join(t for t in texts if t)


def _ts(value: object, field: str) -> str:
    if value is None:
        raise InvalidMessage(f"it has no {field}")
    if not isinstance(value, str) or not _TS.match(value):
        raise InvalidMessage(f"its {field} {str(value)[:40]!r} is not a Slack timestamp")
    return value


def _slack_id(value: object) -> str | None:
    return value if isinstance(value, str) and _SLACK_ID.match(value) else None


def _author(raw: Mapping[str, Any], subtype: str | None, users: Mapping[str, str]) -> str | None:
    user, bot_id = _slack_id(raw.get("user")), _slack_id(raw.get("bot_id"))
    if subtype == "bot_message" and bot_id is not None:
        return bot_id
    if subtype == "file_comment" and isinstance(raw.get("comment"), dict):
        user = _slack_id(raw["comment"].get("user")) or user
    if user is not None:
        # An app's post carries its bot user's id and its bot id: when users.json lacks
        # that user, the post is still the bot's (one Parley bot per bot id).
        return bot_id if bot_id is not None and user not in users else user
    if bot_id is not None:
        return bot_id
    shared = raw.get("file")
    return _slack_id(shared.get("user")) if isinstance(shared, dict) else None


def _with_notes(text: str, notes: list[str]) -> str:
    block = "\n".join(notes)
    room = MAX_TEXT_CHARS - (len(block) + 1 if block and text else len(block))
    if len(text) > room:
        text = text[: max(room - 1, 0)] + "…"
    return "\n".join(part for part in (text, block) if part)[:MAX_TEXT_CHARS]


def map_message(
    raw: Any, *, users: Mapping[str, str], channels: Mapping[str, str]
) -> ImportedMessage | None:
    """The message as Parley keeps it, or None for a notice that is no message (see the
    module's docstring). `users` and `channels`: Slack ids to Parley's, for the text.
    Raises InvalidMessage for a message that cannot be imported."""
    if not isinstance(raw, Mapping):
        raise InvalidMessage("it is not a JSON object")
    if raw.get("type", "message") != "message":
        return None
    subtype = raw.get("subtype") if isinstance(raw.get("subtype"), str) else None
    if subtype in SKIPPED_SUBTYPES:
        return None
    ts = _ts(raw.get("ts"), "ts")
    thread_ts = _ts(raw["thread_ts"], "thread_ts") if raw.get("thread_ts") is not None else None
    author = _author(raw, subtype, users)
    if author is None:
        raise InvalidMessage(f"the message {ts} names no author")
    text = raw.get("text")
    if subtype == "file_comment" and isinstance(raw.get("comment"), dict):
        text = raw["comment"].get("comment")
    body = rewrite_text(scrub(text), users=users, channels=channels).strip()
    if not body:
        body = rewrite_text(_attachments_text(raw), users=users, channels=channels)
    files = _files(raw)
    is_root = thread_ts == ts
    if not body and not files and not is_root:
        return None  # nothing to show (a root stays, empty, so that its replies keep it)
    edited = raw.get("edited")
    edited_ts = edited.get("ts") if isinstance(edited, dict) else None
    bot_id = _slack_id(raw.get("bot_id"))
    profile = raw.get("bot_profile")
    bot_name = raw.get("username") or (profile.get("name") if isinstance(profile, dict) else None)
    return ImportedMessage(
        ts=ts,
        thread_ts=None if thread_ts is None or is_root else thread_ts,
        user=author,
        text=_with_notes(body, [file_note(f) for f in files]),
        subtype=subtype if subtype in KEPT_SUBTYPES else None,
        reactions=_reactions(raw),
        edited_ts=edited_ts if isinstance(edited_ts, str) and _TS.match(edited_ts) else None,
        files=files,
        bot_id=bot_id,
        bot_name=(scrub(bot_name).strip() or None) if isinstance(bot_name, str) else None,
    )
