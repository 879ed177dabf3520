"""A Slack export's layout, as Slack's workspace export writes it.

At the top: `users.json` (`org_users.json` from an Enterprise Grid org), `channels.json`
(public channels), `groups.json` (private channels), `dms.json` (direct messages) and
`mpims.json` (group DMs), each a JSON array; beside them a folder per conversation holding a
`YYYY-MM-DD.json` array of that day's messages. Channels' and private channels' folders are
named by the channel's name, DMs' by their id, group DMs' by their `mpdm-...` name; a
conversation's folder is whichever of its name and id the zip holds (its name first), so
exports rewritten by other tools read too. Anything else (`integration_logs.json`,
`canvases.json`, a canvas in a channel's folder, `__MACOSX/`, attachments) is ignored.

A chunk is one conversation's one day file, the unit of work the import queues: its id
(`{conversation id}/{date}`) is stable across runs, and it carries its member's place in
the zip so a worker streams it without reading the central directory again.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from parley.imports.archive import (
    Archive,
    ExportRefused,
    Limits,
    Member,
    Source,
    iter_json_array,
)
from parley.imports.archive import iter_member_bytes as _member_bytes

Kind = Literal["public", "private", "dm", "group_dm"]

USERS_FILES = ("users.json", "org_users.json")
CONVERSATION_FILES: tuple[tuple[str, Kind], ...] = (
    ("channels.json", "public"),
    ("groups.json", "private"),
    ("dms.json", "dm"),
    ("mpims.json", "group_dm"),
)
_DAY_FILE = re.compile(r"^(?P<folder>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})\.json$")
_SLACK_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def scrub(value: object) -> str:
    """A string of the export as text a UTF-8 store can hold: JSON may escape a lone
    surrogate (`"\\ud800"`), which would crash every consumer that encodes it."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return _SURROGATE.sub("\ufffd", text)


def _text_or_none(value: object) -> str | None:
    text = scrub(value).strip() if isinstance(value, str) else ""
    return text or None


@dataclass(frozen=True, slots=True)
class SlackUser:
    id: str
    name: str  # the handle
    real_name: str
    email: str | None  # as written; matching lowercases it
    deleted: bool
    is_bot: bool
    bot_id: str | None  # profile.bot_id of a bot user (one Parley bot per bot_id)
    app_id: str | None
    team_id: str | None


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    kind: Kind
    name: str | None  # DMs have none
    members: tuple[str, ...]
    topic: str
    purpose: str
    created: int | None  # epoch seconds
    creator: str | None
    archived: bool
    folder: str | None  # where its day files are, None when the zip holds none


@dataclass(frozen=True, slots=True)
class Chunk:
    """One conversation's one day file."""

    id: str  # f"{conversation_id}/{date}"
    conversation_id: str
    date: str  # YYYY-MM-DD
    member: Member

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversationId": self.conversation_id,
            "date": self.date,
            "member": self.member.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(
            id=str(data["id"]),
            conversation_id=str(data["conversationId"]),
            date=str(data["date"]),
            member=Member.from_dict(data["member"]),
        )


def _user(entry: Any, source: str, index: int) -> SlackUser:
    if not isinstance(entry, dict) or not _SLACK_ID.match(str(entry.get("id", ""))):
        raise ExportRefused(f"{source}: entry {index} is not a user with an id")
    profile: dict[str, Any] = entry["profile"] if isinstance(entry.get("profile"), dict) else {}
    name = scrub(entry.get("name")).strip()
    real_name = (
        _text_or_none(profile.get("real_name"))
        or _text_or_none(entry.get("real_name"))
        or _text_or_none(profile.get("display_name"))
        or name
        or entry["id"]
    )
    return SlackUser(
        id=entry["id"],
        name=name or entry["id"],
        real_name=real_name,
        email=_text_or_none(profile.get("email")),
        deleted=entry.get("deleted") is True,
        is_bot=entry.get("is_bot") is True or entry["id"] == "USLACKBOT",
        bot_id=_text_or_none(profile.get("bot_id")),
        app_id=_text_or_none(profile.get("api_app_id")),
        team_id=_text_or_none(entry.get("team_id")),
    )


def _value_of(field: object) -> str:
    """Slack's topic and purpose are `{value, creator, last_set}`."""
    return scrub(field.get("value")).strip() if isinstance(field, dict) else ""


def _created(value: object) -> int | None:
    # Slack writes a placeholder (0 or 1) for DMs' creation time (Mattermost's importer
    # treats anything before 2013, Slack's launch, as absent).
    return value if isinstance(value, int) and value >= 1_356_998_400 else None


def _conversation(
    entry: Any, source: str, index: int, kind: Kind, folders: set[str]
) -> Conversation:
    if not isinstance(entry, dict) or not _SLACK_ID.match(str(entry.get("id", ""))):
        raise ExportRefused(f"{source}: entry {index} is not a conversation with an id")
    conversation_id: str = entry["id"]
    name = _text_or_none(entry.get("name"))
    members_field = entry.get("members")
    members = members_field if isinstance(members_field, list) else []
    unique = tuple(dict.fromkeys(m for m in members if isinstance(m, str) and _SLACK_ID.match(m)))
    candidates = (name, conversation_id) if kind != "dm" else (conversation_id, name)
    folder = next((c for c in candidates if c is not None and c in folders), None)
    creator = entry.get("creator")
    return Conversation(
        id=conversation_id,
        kind=kind,
        name=name,
        members=unique,
        topic=_value_of(entry.get("topic")),
        purpose=_value_of(entry.get("purpose")),
        created=_created(entry.get("created")),
        creator=creator if isinstance(creator, str) and _SLACK_ID.match(creator) else None,
        archived=entry.get("is_archived") is True,
        folder=folder,
    )


class SlackExport:
    """An export opened and checked: every member's name, size and ratio, and the caps of
    the files it will read, are checked here, before anything is imported. The JSON itself
    is read (and its UTF-8 and syntax checked) by `users()`, `conversations()` and, a chunk
    at a time, `messages()`. `warnings` collects what is skipped without failing."""

    def __init__(self, file: Source, limits: Limits | None = None) -> None:
        self.archive = Archive(file, limits)
        self.limits = self.archive.limits
        self.warnings: list[str] = []
        members = self.archive.members
        users = next((members[n] for n in USERS_FILES if n in members), None)
        if users is None:
            raise ExportRefused("the export has no users.json: is it a Slack export?")
        self._users_member = users
        self._conversation_members = [
            (members[n], kind) for n, kind in CONVERSATION_FILES if n in members
        ]
        if not self._conversation_members:
            names = ", ".join(n for n, _ in CONVERSATION_FILES)
            raise ExportRefused(f"the export has none of {names}: is it a Slack export?")
        for member in (users, *(m for m, _ in self._conversation_members)):
            self._check_size(member, self.limits.max_metadata_json)
        self._days: dict[str, list[tuple[str, Member]]] = {}
        for name, member in members.items():
            match = _DAY_FILE.match(name)
            if match:
                self._check_size(member, self.limits.max_day_json)
                self._days.setdefault(match["folder"], []).append((match["date"], member))
        self._conversations: list[Conversation] | None = None

    @staticmethod
    def _check_size(member: Member, cap: int) -> None:
        if member.size > cap:
            raise ExportRefused(
                f"the member {member.name} is {member.size:,} bytes; at most {cap:,}"
            )

    def _array(self, member: Member, cap: int) -> Iterator[Any]:
        return self.archive.read_json_array(member, cap)

    def users(self) -> list[SlackUser]:
        source = self._users_member
        users: dict[str, SlackUser] = {}
        for index, entry in enumerate(self._array(source, self.limits.max_metadata_json)):
            user = _user(entry, source.name, index)
            if user.id in users:
                self.warnings.append(
                    f"{source.name}: user {user.id} is listed twice; kept the first"
                )
                continue
            users[user.id] = user
        return list(users.values())

    def conversations(self) -> list[Conversation]:
        """Every conversation of the four files, in their order; an id listed twice keeps
        its first entry."""
        if self._conversations is not None:
            return self._conversations
        folders = set(self._days)
        found: dict[str, Conversation] = {}
        for member, kind in self._conversation_members:
            entries = self._array(member, self.limits.max_metadata_json)
            for index, entry in enumerate(entries):
                conversation = _conversation(entry, member.name, index, kind, folders)
                if conversation.id in found:
                    self.warnings.append(
                        f"{member.name}: conversation {conversation.id} is listed twice; "
                        "kept the first"
                    )
                    continue
                found[conversation.id] = conversation
        claimed = {c.folder for c in found.values()}
        for folder in sorted(folders - claimed):
            self.warnings.append(f"the folder {folder}/ belongs to no listed conversation; skipped")
        self._conversations = list(found.values())
        return self._conversations

    def chunks(self) -> list[Chunk]:
        """Every conversation's day files, by conversation (in `conversations()` order) and
        date."""
        chunks: list[Chunk] = []
        for conversation in self.conversations():
            if conversation.folder is None:
                continue
            for date, member in sorted(self._days[conversation.folder]):
                chunks.append(Chunk(f"{conversation.id}/{date}", conversation.id, date, member))
        return chunks

    def messages(self, chunk: Chunk) -> Iterator[dict[str, Any]]:
        return chunk_messages(self.archive.file, chunk, self.limits)


def team_of(users: list[SlackUser]) -> str:
    """The export's team: its users' most common `team_id` (users of shared channels carry
    another team's), or "" for an export that names none."""
    teams = Counter(u.team_id for u in users if u.team_id)
    return teams.most_common(1)[0][0] if teams else ""


def chunk_messages(
    file: Source, chunk: Chunk, limits: Limits | None = None
) -> Iterator[dict[str, Any]]:
    """The day file's messages, streamed one at a time from the chunk's member, without the
    zip's central directory (a worker's path: two ranged GETs for a small day file)."""
    limits = limits or Limits()
    member = chunk.member
    pieces = _member_bytes(file, member, limits.max_day_json)
    for index, message in enumerate(iter_json_array(pieces, member.name, limits.max_json_item)):
        if not isinstance(message, dict):
            raise ExportRefused(f"{member.name}: element {index} is not a message object")
        yield message
