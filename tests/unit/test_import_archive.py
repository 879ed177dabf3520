"""The Slack export's zip read safely (parley.imports.archive) and its layout
(parley.imports.slack_export), on exports built in memory in Slack's layout."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from parley.imports.archive import (
    ExportRefused,
    Limits,
    RangedReader,
    iter_json_array,
)
from parley.imports.slack_export import Chunk, SlackExport, chunk_messages, team_of
from tests.slack_exports import (
    ALICE,
    BOB,
    DAY1,
    DAY2,
    DM,
    GENERAL,
    MPIM,
    SECRET,
    TEAM,
    UNICODE_CHANNEL,
    ExportBuilder,
    append_member,
    busy_export,
    nul_named,
    patch_member,
    sample_export,
    with_member,
    zip_bomb,
)


def opened(data: bytes, limits: Limits | None = None) -> SlackExport:
    return SlackExport(io.BytesIO(data), limits)


def read_everything(data: bytes, limits: Limits | None = None) -> None:
    export = opened(data, limits)
    export.users()
    for chunk in export.chunks():
        list(export.messages(chunk))


def refusal(data: bytes, limits: Limits | None = None) -> str:
    with pytest.raises(ExportRefused) as refused:
        read_everything(data, limits)
    return refused.value.reason


def all_messages(export: SlackExport) -> dict[str, list[dict[str, Any]]]:
    return {chunk.id: list(export.messages(chunk)) for chunk in export.chunks()}


class Fetches:
    """An object store's ranged GETs over bytes, counted."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.ranges: list[tuple[int, int]] = []

    def __call__(self, start: int, end: int) -> bytes:
        self.ranges.append((start, end))
        return self.data[start:end]


# --- the layout ----------------------------------------------------------------------------


def test_a_sample_export_lists_its_users_conversations_and_day_files() -> None:
    export = opened(sample_export().build())
    users = export.users()
    assert [u.id for u in users][:2] == [ALICE, BOB]
    assert team_of(users) == TEAM  # the shared channel's user is of another team
    alice = users[0]
    assert (alice.email, alice.real_name, alice.is_bot) == (
        "Alice@Example.com",
        "Alice Liddell",
        False,
    )
    bots = {u.id: u for u in users if u.is_bot}
    assert bots.keys() == {"U0APPBOT6", "USLACKBOT"}
    assert bots["U0APPBOT6"].bot_id == "B0APPBOT6"
    kinds = {c.id: (c.kind, c.folder) for c in export.conversations()}
    assert kinds == {
        GENERAL: ("public", "general"),
        "C0RANDOM0": ("public", "random"),
        UNICODE_CHANNEL: ("public", "日本語"),
        SECRET: ("private", "secret"),
        DM: ("dm", DM),
        MPIM: ("group_dm", "mpdm-alice--bob--carol-1"),
    }
    general = export.conversations()[0]
    assert (general.topic, general.purpose, general.members[0]) == (
        "Company-wide",
        "Everything",
        ALICE,
    )
    assert next(c for c in export.conversations() if c.id == DM).created is None  # Slack's 1
    assert [c.id for c in export.chunks()] == [
        f"{GENERAL}/{DAY1}",
        f"{GENERAL}/{DAY2}",
        f"C0RANDOM0/{DAY1}",
        f"{UNICODE_CHANNEL}/{DAY1}",
        f"{SECRET}/{DAY1}",
        f"{DM}/{DAY1}",
        f"{DM}/{DAY2}",
        f"{MPIM}/{DAY1}",
    ]
    assert export.warnings == []


def test_the_day_files_stream_the_messages_slack_wrote() -> None:
    builder = sample_export()
    export = opened(builder.build())
    read = all_messages(export)
    assert read[f"{GENERAL}/{DAY1}"] == builder.days[("general", DAY1)]
    assert read[f"{UNICODE_CHANNEL}/{DAY1}"][0]["text"] == "こんにちは <@U0BOB0002>"
    assert sum(len(m) for m in read.values()) == sum(len(m) for m in builder.days.values())


def test_unicode_member_names_written_without_the_utf8_flag_read_as_utf8() -> None:
    data = sample_export().build()
    raw = {i.filename: i.flag_bits for i in zipfile.ZipFile(io.BytesIO(data)).infolist()}
    mojibake = "日本語/2024-03-01.json".encode().decode("cp437")
    assert raw[mojibake] & 0x800 == 0  # as Slack writes them: zipfile alone reads mojibake
    assert "日本語/2024-03-01.json" in opened(data).archive.members


def test_folders_named_by_id_are_found_as_folders_named_by_name() -> None:
    by_name = all_messages(opened(sample_export().build()))
    by_id = all_messages(opened(sample_export().build(folders_by_id=True)))
    assert by_id == by_name


def test_org_users_json_of_an_enterprise_grid_export_serves_as_users_json() -> None:
    export = opened(sample_export().build(users_file="org_users.json"))
    assert len(export.users()) == len(sample_export().users)


def test_a_chunk_travels_as_json_and_is_read_without_the_central_directory() -> None:
    data = sample_export().build()
    chunk = opened(data).chunks()[0]
    carried = Chunk.from_dict(json.loads(json.dumps(chunk.to_dict())))
    assert carried == chunk
    messages = list(chunk_messages(io.BytesIO(data), carried))
    assert messages == sample_export().days[("general", DAY1)]


def test_what_belongs_to_no_conversation_is_skipped_with_a_warning() -> None:
    builder = sample_export()
    builder.post("C0GHOST00", "1709251200.000100", user=ALICE, text="orphan")
    builder.channels.append(dict(builder.channels[1]))  # random listed twice
    builder.member("canvases.json", b"[]")
    builder.member("general/canvas_in_the_conversation.json", b"{}")
    builder.member("__MACOSX/general/._2024-03-01.json", b"\x00\x05")
    export = opened(builder.build())
    assert len(export.conversations()) == 6
    assert len(export.chunks()) == 8
    assert export.warnings == [
        "channels.json: conversation C0RANDOM0 is listed twice; kept the first",
        "the folder C0GHOST00/ belongs to no listed conversation; skipped",
    ]


def test_a_user_listed_twice_keeps_the_first_entry() -> None:
    builder = sample_export()
    builder.users.append({**builder.users[0], "name": "impostor"})
    export = opened(builder.build())
    assert [u.name for u in export.users() if u.id == ALICE] == ["alice"]
    assert export.warnings == ["users.json: user U0ALICE01 is listed twice; kept the first"]


@pytest.mark.parametrize(
    ("field", "entry", "reason"),
    [
        ("users", {"name": "nobody"}, "users.json: entry 7 is not a user with an id"),
        ("users", "U0STRING1", "users.json: entry 7 is not a user with an id"),
        ("channels", {"name": "x"}, "channels.json: entry 3 is not a conversation with an id"),
        (
            "dms",
            {"id": "../D1", "members": []},
            "dms.json: entry 1 is not a conversation with an id",
        ),
    ],
)
def test_an_entry_without_a_usable_id_refuses_the_export(
    field: str, entry: Any, reason: str
) -> None:
    builder = sample_export()
    getattr(builder, field).append(entry)
    assert refusal(builder.build()) == reason


def test_lone_surrogates_in_names_become_replacement_characters() -> None:
    builder = ExportBuilder()
    builder.user(ALICE, "alice", real_name="\ud800lice")
    builder.channel(GENERAL, "general", [ALICE], topic="a\udfffb")
    data = builder.build()
    export = opened(data)
    assert export.users()[0].real_name == "\ufffdlice"
    assert export.conversations()[0].topic == "a\ufffdb"


# --- reading through ranged GETs -------------------------------------------------------------


def test_one_day_file_is_read_with_a_few_ranged_gets_not_the_whole_zip() -> None:
    data = busy_export(channels=50, days=10, per_day=30).build()
    fetches = Fetches(data)
    reader = RangedReader(fetches, len(data), read_ahead=16 * 1024)
    export = SlackExport(reader)
    opened_with = reader.fetched_bytes
    chunk = export.chunks()[123]
    before = (reader.fetches, reader.fetched_bytes)
    messages = list(export.messages(chunk))
    assert len(messages) == 30
    assert len(data) > 1_000_000
    assert opened_with < len(data) / 5  # the end record and the central directory
    gets, got = reader.fetches - before[0], reader.fetched_bytes - before[1]
    assert got <= chunk.member.compressed_size + 2 * 16 * 1024
    assert gets <= 3
    assert reader.fetched_bytes < len(data) / 4
    assert messages == list(opened(data).messages(chunk))


def test_a_worker_streams_its_chunk_from_a_reader_of_its_own_in_one_get() -> None:
    data = busy_export(channels=5, days=3, per_day=10).build()
    chunk = opened(data).chunks()[7]
    fetches = Fetches(data)
    reader = RangedReader(fetches, len(data), read_ahead=64 * 1024)
    messages = list(chunk_messages(reader, chunk))
    assert len(messages) == 10
    assert len(fetches.ranges) == 1
    assert fetches.ranges[0][0] == chunk.member.offset


def test_the_ranged_reader_seeks_and_reads_as_a_file() -> None:
    data = bytes(range(256)) * 40
    reader = RangedReader(Fetches(data), len(data), read_ahead=100)
    assert reader.seekable()
    assert reader.readable()
    assert reader.read(10) == data[:10]
    assert reader.read(5) == data[10:15]
    assert reader.fetches == 1  # the read-ahead served the second read
    assert reader.seek(-3, io.SEEK_END) == len(data) - 3
    assert reader.read() == data[-3:]
    assert reader.read(10) == b""
    assert reader.seek(5, io.SEEK_SET) == 5
    assert reader.seek(2, io.SEEK_CUR) == 7
    assert reader.tell() == 7
    assert reader.read(500) == data[7:507]  # a read longer than the read-ahead is one GET
    with pytest.raises(OSError, match="negative seek"):
        reader.seek(-1)


def test_a_short_ranged_read_is_an_error_not_a_shorter_file() -> None:
    reader = RangedReader(lambda start, end: b"x" * (end - start - 1), 1000)
    with pytest.raises(OSError, match=r"ranged read \[0, 1000\) returned 999 bytes"):
        reader.read(100)


# --- hostile exports --------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_from_the_directory_before_inflating() -> None:
    data = zip_bomb(20 * 1024 * 1024)
    assert len(data) < 100_000
    with pytest.raises(ExportRefused) as refused:
        opened(data)  # on opening: no member has been read
    reason = refused.value.reason
    assert reason.startswith("the member general/2024-03-09.json expands ")
    assert reason.endswith("to 1 (at most 100 to 1 is read): a zip bomb?")


def test_a_small_member_compressing_past_the_ratio_reads_under_the_floor() -> None:
    data = with_member("random/2024-03-05.json", b"[" + b" " * 500_000 + b"]")
    export = opened(data)
    chunk = next(c for c in export.chunks() if c.id == "C0RANDOM0/2024-03-05")
    assert chunk.member.size > 100 * chunk.member.compressed_size
    assert list(export.messages(chunk)) == []


def test_the_total_uncompressed_size_is_capped() -> None:
    reason = refusal(sample_export().build(), Limits(max_total_size=4000))
    assert reason.startswith("the export unpacks to more than 4,000 bytes (reached at ")


def test_too_many_members_are_refused_before_zipfile_reads_the_directory() -> None:
    assert refusal(sample_export().build(), Limits(max_members=10)) == (
        "the zip has 20 members; an export may have at most 10"
    )


def test_a_directory_over_its_cap_is_refused() -> None:
    reason = refusal(sample_export().build(), Limits(max_directory_size=500))
    assert reason.startswith("the zip's central directory is ")


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.json", "climbs out of the archive with '..'"),
        ("general/../../evil.json", "climbs out of the archive with '..'"),
        ("/etc/evil.json", "is an absolute path"),
        ("general\\2024-03-05.json", "holds a backslash"),
        ("C:/evil.json", "starts with a drive letter"),
        ("general/./2024-03-05.json", "has an empty or '.' path component"),
        ("general//2024-03-05.json", "has an empty or '.' path component"),
    ],
)
def test_unsafe_member_names_are_refused(name: str, why: str) -> None:
    assert refusal(with_member(name, b"[]")) == f"the member {name!r} {why}"


def test_a_name_with_nul_is_refused_though_zipfile_cuts_it() -> None:
    assert refusal(nul_named()) == "the member 'evil\\x00.json' holds a NUL character"


@pytest.mark.filterwarnings("ignore:Duplicate name")  # zipfile's, writing the second one
def test_two_members_of_one_name_are_refused() -> None:
    data = append_member(sample_export().build(), "users.json", b"[]")
    assert refusal(data) == "the zip holds two members named users.json"


def test_an_encrypted_member_is_refused() -> None:
    data = patch_member(sample_export().build(), b"dms.json", set_flags=0x1)
    assert refusal(data) == "the member dms.json is encrypted"


def test_a_member_compressed_otherwise_than_deflate_is_refused() -> None:
    data = append_member(sample_export().build(), "notes.json", b"[]", zipfile.ZIP_BZIP2)
    assert refusal(data) == (
        "the member notes.json uses compression method 12; only stored and deflate members are read"
    )


def test_a_member_holding_more_than_its_header_declares_is_stopped_there() -> None:
    data = patch_member(sample_export().build(), b"random/2024-03-01.json", size=20)
    assert refusal(data) == (
        "the member random/2024-03-01.json holds more than the 20 bytes its header declares"
    )


def test_a_member_holding_less_than_its_header_declares_is_refused() -> None:
    data = patch_member(sample_export().build(), b"random/2024-03-01.json", size=90_000)
    assert refusal(data) == (
        "the member random/2024-03-01.json holds 140 bytes; its header declares 90,000"
    )


def test_a_member_failing_its_crc_is_refused() -> None:
    payload = b'[{"type": "message", "ts": "1709251200.000100", "text": "hi"}]'
    data = bytearray(
        append_member(
            sample_export().build(), "random/2024-03-05.json", payload, zipfile.ZIP_STORED
        )
    )
    at = data.find(payload)
    data[at + 50] ^= 0x01  # one bit of the text, the JSON still valid
    assert refusal(bytes(data)) == "the member random/2024-03-05.json fails its CRC check"


def test_a_local_header_naming_another_file_than_the_directory_is_refused() -> None:
    data = patch_member(
        sample_export().build(),
        b"random/2024-03-01.json",
        new_name=b"random/2024-03-08.json",
        central_only=True,
    )
    assert refusal(data) == (
        "the member random/2024-03-08.json's local header names it "
        "'random/2024-03-01.json': the zip's two name records disagree"
    )


def test_a_json_member_over_its_cap_is_refused_on_opening() -> None:
    assert refusal(sample_export().build(), Limits(max_day_json=150)) == (
        "the member D0ALIBOB0/2024-03-02.json is 332 bytes; at most 150"
    )
    assert refusal(sample_export().build(), Limits(max_metadata_json=100)).startswith(
        "the member users.json is "
    )


def test_bad_utf8_names_the_file_and_the_byte() -> None:
    data = with_member("random/2024-03-05.json", b'[{"text": "caf\xe9"}]')
    assert refusal(data) == "random/2024-03-05.json is not valid UTF-8 (at byte 14)"


def test_bad_utf8_in_users_json_is_refused() -> None:
    builder = sample_export()
    data = builder.build(users_file=None)
    data = append_member(data, "users.json", b'[{"id": "U1", "name": "\xc3("}]')
    assert refusal(data) == "users.json is not valid UTF-8 (at byte 23)"


def test_an_export_without_users_json_is_refused() -> None:
    assert refusal(sample_export().build(users_file=None)) == (
        "the export has no users.json: is it a Slack export?"
    )


def test_a_zip_of_no_conversation_files_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("users.json", "[]")
    assert refusal(buffer.getvalue()) == (
        "the export has none of channels.json, groups.json, dms.json, mpims.json: "
        "is it a Slack export?"
    )


@pytest.mark.parametrize("data", [b"", b"not a zip at all" * 100, b"PK\x05\x06" + b"\x00" * 5])
def test_what_is_not_a_zip_is_refused(data: bytes) -> None:
    assert refusal(data) == "the upload is not a zip file (no end of central directory record)"


def test_a_truncated_zip_is_refused() -> None:
    data = sample_export().build()
    assert refusal(data[: len(data) // 2] + data[-22:]).startswith(
        "the upload is not a readable zip file ("
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"type": "message"}', "is not a JSON array"),
        (b'[{"ts": 1}', "is cut short (its array is not closed)"),
        (b'[{"ts": 1', "is not valid JSON (Expecting ',' delimiter"),
        (b'[{"ts": NaN}]', "holds NaN, which JSON does not allow"),
        (b"[" * 100_000 + b"]" * 100_000, "is nested too deeply"),
        (b"[{}] []", "has data after its JSON array"),
        (b"[{} {}]", "is not valid JSON (expected ',' or ']' in its array)"),
        (b'["a message"]', "element 0 is not a message object"),
        (b"[" + b"1" * 5000 + b"]", "is not valid JSON (Exceeds the limit (4300 digits)"),
    ],
)
def test_a_day_file_that_is_not_an_array_of_objects_is_refused(payload: bytes, reason: str) -> None:
    name = "random/2024-03-05.json"
    got = refusal(with_member(name, payload))
    assert got.startswith(f"{name} {reason}") or got.startswith(f"{name}: {reason}")


def test_an_element_over_its_cap_is_refused_without_holding_more() -> None:
    big = json.dumps([{"text": "x" * 10_000}]).encode()
    reason = refusal(with_member("random/2024-03-05.json", big), Limits(max_json_item=5_000))
    assert reason == "random/2024-03-05.json holds an element of over 5,000 characters"


@pytest.mark.parametrize("piece_size", [1, 2, 3, 7, 64 * 1024])
def test_json_arrays_decode_alike_however_their_bytes_are_split(piece_size: int) -> None:
    value = [{"t": "héllo 👋 日本", "n": 12345, "f": -1.5e3, "z": None}, [], "s", 7, True, {}]
    text = ("\ufeff \n" + json.dumps(value, ensure_ascii=False, indent=4) + "\n").encode()
    pieces = (text[i : i + piece_size] for i in range(0, len(text), piece_size))
    assert list(iter_json_array(pieces, "x.json", 1000)) == value


def test_an_empty_json_array_has_no_elements() -> None:
    assert list(iter_json_array(iter([b" [ ] "]), "x.json", 10)) == []
