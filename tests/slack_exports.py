"""Slack exports built in the tests, in the layout Slack's workspace export writes.

`ExportBuilder` writes the zip: `users.json`, `channels.json`, `groups.json`, `dms.json`,
`mpims.json`, and a `YYYY-MM-DD.json` per conversation and day, in folders named as Slack
names them (channels, private channels and group DMs by name, DMs by id), its JSON indented
by 4 as Slack's is, its names UTF-8 without the zip's UTF-8 flag as Slack writes them.
`sample_export()` holds every kind of thing an import meets; the hostile helpers make the
exports an import must refuse (`patch_member` edits a member's zip headers in place, for
the lies no zip writer tells).
"""

from __future__ import annotations

import io
import json
import random
import struct
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TEAM = "T0PARLEY1"
OTHER_TEAM = "T0SHARED9"


def ts_at(day: str, second: int = 0, micros: int = 0) -> str:
    """A Slack ts `second` seconds into `day` (UTC)."""
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return f"{int(start.timestamp()) + second:010d}.{micros:06d}"


def day_of(ts: str) -> str:
    return datetime.fromtimestamp(int(ts.split(".", maxsplit=1)[0]), UTC).strftime("%Y-%m-%d")


@dataclass
class ExportBuilder:
    users: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    dms: list[dict[str, Any]] = field(default_factory=list)
    mpims: list[dict[str, Any]] = field(default_factory=list)
    days: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    extra: list[tuple[str, bytes]] = field(default_factory=list)

    def user(
        self,
        user_id: str,
        name: str,
        *,
        email: str | None = None,
        real_name: str | None = None,
        deleted: bool = False,
        is_bot: bool = False,
        bot_id: str | None = None,
        team_id: str = TEAM,
    ) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "real_name": real_name or name.title(),
            "display_name": name,
            "image_72": f"https://avatars.slack-edge.com/{user_id}_72.png",
            "team": team_id,
        }
        if email is not None:
            profile["email"] = email
        if bot_id is not None:
            profile["bot_id"] = bot_id
            profile["api_app_id"] = "A0" + bot_id[2:]
        entry = {
            "id": user_id,
            "team_id": team_id,
            "name": name,
            "deleted": deleted,
            "real_name": real_name or name.title(),
            "tz": "Europe/Paris",
            "is_admin": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "profile": profile,
        }
        self.users.append(entry)
        return entry

    def _conversation(
        self, conversation_id: str, name: str | None, members: list[str], **fields: Any
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": conversation_id}
        if name is not None:
            entry["name"] = name
        entry.update(
            {
                "created": fields.pop("created", 1_600_000_000),
                "creator": fields.pop("creator", members[0] if members else None),
                "is_archived": fields.pop("archived", False),
                "members": members,
                "topic": {"value": fields.pop("topic", ""), "creator": "", "last_set": 0},
                "purpose": {"value": fields.pop("purpose", ""), "creator": "", "last_set": 0},
            }
        )
        entry.update(fields)
        return entry

    def channel(self, channel_id: str, name: str, members: list[str], **fields: Any) -> dict:
        entry = self._conversation(channel_id, name, members, is_general=False, **fields)
        self.channels.append(entry)
        return entry

    def group(self, group_id: str, name: str, members: list[str], **fields: Any) -> dict:
        entry = self._conversation(group_id, name, members, **fields)
        self.groups.append(entry)
        return entry

    def dm(self, dm_id: str, members: list[str]) -> dict[str, Any]:
        entry = {"id": dm_id, "created": 1, "members": members}  # Slack's placeholder time
        self.dms.append(entry)
        return entry

    def mpim(self, mpim_id: str, name: str, members: list[str], **fields: Any) -> dict:
        entry = self._conversation(mpim_id, name, members, **fields)
        self.mpims.append(entry)
        return entry

    def folder_of(self, conversation_id: str) -> str:
        for entries in (self.channels, self.groups, self.mpims):
            for entry in entries:
                if entry["id"] == conversation_id:
                    return str(entry["name"])
        return conversation_id  # a DM's folder is its id

    def post(self, conversation_id: str, ts: str, **fields: Any) -> dict[str, Any]:
        """A message in the conversation's day file of its ts."""
        message = {"type": "message", "ts": ts, **fields}
        key = (self.folder_of(conversation_id), day_of(ts))
        self.days.setdefault(key, []).append(message)
        return message

    def member(self, name: str, data: bytes) -> None:
        self.extra.append((name, data))

    def build(self, *, users_file: str | None = "users.json", folders_by_id: bool = False) -> bytes:
        """The zip. `folders_by_id`: every folder named by its conversation's id, as some
        tools that rewrite exports do."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
            if users_file is not None:
                zipped.writestr(users_file, _json(self.users))
            for name, entries in (
                ("channels.json", self.channels),
                ("groups.json", self.groups),
                ("dms.json", self.dms),
                ("mpims.json", self.mpims),
            ):
                zipped.writestr(name, _json(entries))
            zipped.writestr("integration_logs.json", _json([]))
            everyone = [*self.channels, *self.groups, *self.mpims]
            ids = {e.get("name"): e.get("id") for e in everyone}
            folders: set[str] = set()
            for (folder, day), messages in sorted(self.days.items()):
                named = (ids.get(folder) or folder) if folders_by_id else folder
                if named not in folders:  # a folder's entry, as Slack's zip has one
                    zipped.writestr(f"{named}/", b"")
                    folders.add(named)
                zipped.writestr(f"{named}/{day}.json", _json(messages))
            for name, data in self.extra:
                zipped.writestr(name, data)
        data = buffer.getvalue()
        for info in zipfile.ZipFile(io.BytesIO(data)).infolist():
            if info.flag_bits & 0x800:  # Slack's names are UTF-8 without the flag
                data = patch_member(data, info.filename.encode(), clear_flags=0x800)
        return data


def _json(value: Any) -> bytes:
    text = json.dumps(value, indent=4, ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate, which only an escape can write
        return json.dumps(value, indent=4).encode()


# Slack ids of the sample
ALICE, BOB, CAROL, DAVE, ALICE_SHARED = (
    "U0ALICE01",
    "U0BOB0002",
    "U0CAROL03",
    "U0DAVE004",
    "W0ALICE05",
)
APP_BOT_USER, APP_BOT = "U0APPBOT6", "B0APPBOT6"
LEGACY_BOT = "B0LEGACY7"
GENERAL, RANDOM, UNICODE_CHANNEL, SECRET = "C0GENERAL", "C0RANDOM0", "C0NIHONGO", "G0SECRET0"
DM, MPIM = "D0ALIBOB0", "G0MPIM000"
DAY1, DAY2 = "2024-03-01", "2024-03-02"
ROOT_TS = ts_at(DAY1, 3600)


def sample_export() -> ExportBuilder:
    """Every file kind and every message kind an import meets: users matched by email (one
    person with two accounts), without email, deactivated, a bot user and Slackbot;
    public, private, unicode-named channels, a DM and a group DM; a thread whose replies
    span two days with a reply count that lies, a broadcast reply, reactions (one with a
    skin tone), an edit, mentions, a channel link, <!here>, a link, escaped text, a legacy
    bot's bot_message, an app's post, a file share, a deleted file, joins, leaves, a topic
    change, unicode text."""
    e = ExportBuilder()
    e.user(ALICE, "alice", email="Alice@Example.com", real_name="Alice Liddell")
    e.user(BOB, "bob", email="bob@example.com")
    e.user(CAROL, "carol")  # an export without her email
    e.user(DAVE, "dave", email="dave@example.com", deleted=True)
    e.user(ALICE_SHARED, "alice", email="alice@example.com", team_id=OTHER_TEAM)
    e.user(APP_BOT_USER, "deploybot", is_bot=True, bot_id=APP_BOT, real_name="Deploy Bot")
    e.user("USLACKBOT", "slackbot", real_name="Slackbot")
    people = [ALICE, BOB, CAROL]
    e.channel(GENERAL, "general", people, topic="Company-wide", purpose="Everything")
    e.channel(RANDOM, "random", people)
    e.channel(UNICODE_CHANNEL, "日本語", [ALICE, BOB], purpose="にほんご")
    e.group(SECRET, "secret", [ALICE, BOB], topic="Shh")
    e.dm(DM, [ALICE, BOB])
    e.mpim(MPIM, "mpdm-alice--bob--carol-1", people)

    e.post(
        GENERAL,
        ts_at(DAY1, 60),
        subtype="channel_join",
        user=CAROL,
        text="<@U0CAROL03> has joined the channel",
    )
    e.post(
        GENERAL,
        ROOT_TS,
        user=ALICE,
        text="Welcome <@U0BOB0002> and <@U0CAROL03|carol>! See <#C0RANDOM0|random>, <!here>: "
        "<https://example.com|the docs> &amp; 1 &lt; 2",
        thread_ts=ROOT_TS,
        reply_count=7,  # Slack's count is not trusted: three replies follow
        reply_users=[BOB, CAROL],
        replies=[{"user": BOB, "ts": ts_at(DAY1, 3700)}],
        latest_reply=ts_at(DAY2, 100),
        reactions=[
            {"name": "thumbsup", "users": [BOB, CAROL], "count": 2},
            {"name": "+1::skin-tone-2", "users": [BOB], "count": 1},
        ],
        edited={"user": ALICE, "ts": ts_at(DAY1, 3650)},
        blocks=[{"type": "rich_text", "block_id": "x", "elements": []}],
    )
    e.post(
        GENERAL,
        ts_at(DAY1, 3700),
        user=BOB,
        text="Thanks! héllo 👋 日本",
        thread_ts=ROOT_TS,
        parent_user_id=ALICE,
    )
    e.post(
        GENERAL,
        ts_at(DAY1, 3800),
        user=CAROL,
        subtype="thread_broadcast",
        text="Also for everyone",
        thread_ts=ROOT_TS,
        root={"user": ALICE, "ts": ROOT_TS},
    )
    e.post(
        GENERAL,
        ts_at(DAY2, 100),
        user=BOB,
        text="A day later",
        thread_ts=ROOT_TS,
        parent_user_id=ALICE,
    )
    e.post(
        GENERAL,
        ts_at(DAY1, 4000),
        subtype="bot_message",
        bot_id=LEGACY_BOT,
        username="ci",
        text="",
        attachments=[{"fallback": "Build 42 passed", "color": "good"}],
    )
    e.post(
        GENERAL,
        ts_at(DAY1, 4100),
        user=APP_BOT_USER,
        bot_id=APP_BOT,
        text="Deployed v1.2",
        bot_profile={"id": APP_BOT, "name": "deploybot"},
    )
    e.post(
        GENERAL,
        ts_at(DAY1, 4200),
        subtype="file_share",
        user=ALICE,
        text="The plan",
        upload=True,
        files=[
            {
                "id": "F0PLAN001",
                "name": "plan.pdf",
                "title": "Plan",
                "filetype": "pdf",
                "mimetype": "application/pdf",
                "size": 123_456,
            },
            {"id": "F0GONE002", "mode": "tombstone"},
        ],
    )
    e.post(
        GENERAL,
        ts_at(DAY1, 4300),
        subtype="channel_topic",
        user=ALICE,
        text="set the channel topic: Company-wide",
        topic="Company-wide",
    )
    e.post(
        GENERAL,
        ts_at(DAY2, 200),
        subtype="channel_leave",
        user=CAROL,
        text="<@U0CAROL03> has left the channel",
    )
    e.post(RANDOM, ts_at(DAY1, 10), user="USLACKBOT", text="Reminder: lunch")
    e.post(UNICODE_CHANNEL, ts_at(DAY1, 20), user=ALICE, text="こんにちは <@U0BOB0002>")
    e.post(SECRET, ts_at(DAY1, 30), user=BOB, text="the secret is <#C0GENERAL>")
    e.post(DM, ts_at(DAY1, 40), user=ALICE, text="hi bob")
    e.post(
        DM,
        ts_at(DAY2, 40),
        user=BOB,
        text="hi alice",
        reactions=[{"name": "wave", "users": [ALICE], "count": 1}],
    )
    e.post(MPIM, ts_at(DAY1, 50), user=CAROL, text="all three of us")
    return e


# --- hostile exports ---------------------------------------------------------------------


def _central_entries(data: bytes) -> list[tuple[int, int, bytes]]:
    """(central header offset, local header offset, name) of each member."""
    end = data.rfind(b"PK\x05\x06")
    count, _, at = struct.unpack("<HLL", data[end + 10 : end + 20])
    entries = []
    for _ in range(count):
        name_length, extra_length, comment_length = struct.unpack("<3H", data[at + 28 : at + 34])
        (local,) = struct.unpack("<L", data[at + 42 : at + 46])
        entries.append((at, local, data[at + 46 : at + 46 + name_length]))
        at += 46 + name_length + extra_length + comment_length
    return entries


def patch_member(
    data: bytes,
    name: bytes,
    *,
    set_flags: int = 0,
    clear_flags: int = 0,
    size: int | None = None,
    new_name: bytes | None = None,
    central_only: bool = False,
) -> bytes:
    """The zip with one member's headers changed (its local and central ones, or only the
    central with `central_only`): flag bits, its declared uncompressed size, or its name
    (to one of the same length)."""
    out = bytearray(data)
    for central, local, entry_name in _central_entries(data):
        if entry_name != name:
            continue
        headers = [(central, 8, 24, 46)] + ([] if central_only else [(local, 6, 22, 30)])
        for at, flags_at, size_at, name_at in headers:
            (flags,) = struct.unpack("<H", out[at + flags_at : at + flags_at + 2])
            out[at + flags_at : at + flags_at + 2] = struct.pack(
                "<H", (flags | set_flags) & ~clear_flags
            )
            if size is not None:
                out[at + size_at : at + size_at + 4] = struct.pack("<L", size)
            if new_name is not None:
                assert len(new_name) == len(name)
                out[at + name_at : at + name_at + len(name)] = new_name
        return bytes(out)
    raise KeyError(name)


def with_member(name: str, payload: bytes, export: ExportBuilder | None = None) -> bytes:
    """A good export with one more member."""
    builder = export or sample_export()
    builder.member(name, payload)
    return builder.build()


def zip_bomb(size: int) -> bytes:
    """A good export whose general/ day file is `size` bytes of a valid JSON array (spaces
    inside `[]`), compressing about 1,000 to 1."""
    return with_member(f"general/{DAY2[:-2]}09.json", b"[" + b" " * (size - 2) + b"]")


def nul_named() -> bytes:
    """A member whose name holds a NUL (zipfile cuts the name there when it reads it)."""
    data = with_member("evil#.json", b"[]")
    return patch_member(data, b"evil#.json", new_name=b"evil\x00.json")


def append_member(
    data: bytes, name: str, payload: bytes, compress_type: int = zipfile.ZIP_DEFLATED
) -> bytes:
    """The zip with one more member, compressed as asked (zipfile writes bzip2 and stored)."""
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as zipped:
        zipped.writestr(name, payload, compress_type=compress_type)
    return buffer.getvalue()


_WORDS = [
    "deploy",
    "review",
    "lunch",
    "meeting",
    "release",
    "bug",
    "fix",
    "ticket",
    "design",
    "draft",
    "ship",
    "test",
    "merge",
    "coffee",
    "sprint",
    "retro",
    "demo",
    "budget",
    "launch",
    "metrics",
    "roadmap",
    "customer",
    "incident",
]


def _day_after(day: str, days: int) -> str:
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return datetime.fromtimestamp(start.timestamp() + days * 86_400, UTC).strftime("%Y-%m-%d")


def busy_export(
    channels: int, days: int, per_day: int, seed: int = 7, *, threads: bool = False
) -> ExportBuilder:
    """Many conversations and days of varied text, so that the zip is large and its day
    files compress as real ones do (about 5 to 1). `threads`: as in a busy workspace, one
    message in ten is a reply to the day's latest root, one in twenty carries reactions."""
    rng = random.Random(seed)
    e = ExportBuilder()
    people = [f"U{n:08d}" for n in range(20)]
    for person in people:
        e.user(person, f"person{person[-2:]}", email=f"{person.lower()}@example.com")
    for c in range(channels):
        channel_id = f"C{c:08d}"
        e.channel(channel_id, f"channel-{c}", people)
        for d in range(days):
            day = _day_after("2024-01-01", d)
            root: dict[str, Any] | None = None
            for m in range(per_day):
                words = " ".join(rng.choices(_WORDS, k=rng.randint(4, 30)))
                fields: dict[str, Any] = {
                    "user": rng.choice(people),
                    "text": f"{words} {rng.randrange(10**9)}",
                    "client_msg_id": f"{rng.getrandbits(128):032x}",
                }
                if threads and root is not None and m % 10 == 9:
                    fields.update(thread_ts=root["ts"], parent_user_id=root["user"])
                elif threads and m % 20 == 3:
                    reactors = rng.sample(people, 3)
                    fields["reactions"] = [{"name": "tada", "users": reactors, "count": 3}]
                message = e.post(channel_id, ts_at(day, m * 60, rng.randrange(1_000_000)), **fields)
                if root is not None and "thread_ts" in fields:
                    root["replies"].append({"user": fields["user"], "ts": message["ts"]})
                    root.update(reply_count=len(root["replies"]), latest_reply=message["ts"])
                elif threads and m % 10 == 0:
                    message.update(thread_ts=message["ts"], replies=[], reply_count=0)
                    root = message
    return e
