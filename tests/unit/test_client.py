"""The terminal client's pure parts: commands, event lines, the stack file, its sessions
driven by in-memory frames (no sockets)."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from local.client import (
    ClientError,
    Directory,
    Invalid,
    Join,
    Quit,
    Say,
    ShowHelp,
    Stack,
    SwitchChannel,
    decode_frame,
    directory_from,
    find_channel,
    format_event,
    is_quiet,
    load_stack,
    parse_args,
    parse_command,
    render_text,
    send_message_frame,
    send_once,
    watch,
    websocket_url,
)

STACK = {
    "region": "us-east-1",
    "httpUrl": "http://127.0.0.1:4000/",
    "wsUrl": "ws://127.0.0.1:4001",
    "cognito": {"endpoint": "http://127.0.0.1:4002", "userPoolId": "p", "clientId": "c"},
    "demo": {"password": "pw", "users": ["alice", "bob"], "workspaceId": "W0000000001"},
}
ALICE, BOB = "u-alice-0000", "u-bob-0000"
GENERAL = "C0000000001"


@pytest.fixture
def names() -> Directory:
    return Directory(
        channels={GENERAL: "general"}, users={ALICE: "Alice Example", BOB: "Bob Example"}
    )


# ---------------------------------------------------------------- commands


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("hello there\n", Say("hello there")),
        ("  indented stays\n", Say("  indented stays")),
        ("//shrug\n", Say("/shrug")),
        ("/join design\n", Join("design")),
        ("/join #design", Join("design")),
        ("/j design", Join("design")),
        ("/channel general", SwitchChannel("general")),
        ("/c general", SwitchChannel("general")),
        ("/quit", Quit()),
        ("/QUIT", Quit()),
        ("/help", ShowHelp()),
    ],
)
def test_parse_command_reads_text_and_slash_commands(line: str, command: object) -> None:
    assert parse_command(line) == command


@pytest.mark.parametrize("line", ["", "\n", "   \r\n"])
def test_parse_command_ignores_blank_lines(line: str) -> None:
    assert parse_command(line) is None


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("/join", "needs a channel name"),
        ("/channel  ", "needs a channel name"),
        ("/join Design Team", "is not a channel name"),
        ("/join " + "a" * 81, "is not a channel name"),
        ("/shout hi", "unknown command /shout"),
    ],
)
def test_parse_command_explains_what_it_cannot_do(line: str, says: str) -> None:
    command = parse_command(line)
    assert isinstance(command, Invalid)
    assert says in command.reason


# ---------------------------------------------------------------- event lines


def message(**fields: Any) -> dict[str, Any]:
    return {
        "ts": "1732698061.000100",
        "channelId": GENERAL,
        "userId": BOB,
        "text": "hi",
        "replyCount": 0,
        "reactions": [],
    } | fields


def test_message_line_names_channel_author_and_text(names: Directory) -> None:
    line = format_event({"type": "message", "channelId": GENERAL, "message": message()}, names)
    assert line.endswith(" #general Bob Example: hi")
    assert line[:5].count(":") == 1  # HH:MM first


def test_message_line_renders_mentions_and_stays_on_one_line(names: Directory) -> None:
    text = "hey <@u-alice-0000> and <!here>\nsecond line <@u-nobody>"
    line = format_event({"type": "message", "message": message(text=text)}, names)
    assert "hey @Alice Example and @here ↵ second line @u-nobody" in line
    assert "\n" not in line


def test_message_line_marks_thread_replies_edits_and_files(names: Directory) -> None:
    reply = message(ts="1732698070.000001", threadTs="1732698061.000100", files=[{}, {}])
    line = format_event({"type": "message_changed", "channelId": GENERAL, "message": reply}, names)
    assert "Bob Example (thread 1732698061.000100) (edited): hi [2 files]" in line


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (
            {"type": "message_deleted", "channelId": GENERAL, "ts": "1.2"},
            "#general message 1.2 deleted",
        ),
        (
            {"type": "reaction_added", "channelId": GENERAL, "ts": "1.2", "name": "tada"}
            | {"userId": BOB},
            "#general Bob Example reacted :tada: to 1.2",
        ),
        (
            {"type": "reaction_removed", "channelId": GENERAL, "ts": "1.2", "name": "tada"}
            | {"userId": BOB},
            "#general Bob Example removed :tada: from 1.2",
        ),
        (
            {"type": "user_typing", "channelId": GENERAL, "userId": BOB},
            "#general Bob Example is typing...",
        ),
        (
            {"type": "user_typing", "channelId": GENERAL, "userId": BOB, "threadTs": "1.2"},
            "#general Bob Example is typing in thread 1.2...",
        ),
        ({"type": "presence_change", "userId": BOB, "presence": "away"}, "Bob Example is away"),
        (
            {"type": "member_joined_channel", "channelId": GENERAL, "userId": BOB},
            "#general Bob Example joined",
        ),
        (
            {"type": "member_left_channel", "channelId": "C9", "userId": "u-x"},
            "C9 u-x left",
        ),
        (
            {"type": "channel_created", "channel": {"id": "C2", "name": "design", "topic": ""}},
            "channel #design created",
        ),
        (
            {"type": "channel_changed", "channel": {"id": "C2", "name": "design", "topic": "UI"}},
            "channel #design changed (topic: UI)",
        ),
        ({"type": "channel_marked", "channelId": GENERAL, "ts": "1.2"}, "#general read up to 1.2"),
        (
            {"type": "pin_added", "channelId": GENERAL, "ts": "1.2", "userId": ALICE},
            "#general Alice Example pinned 1.2",
        ),
        (
            {"type": "pin_removed", "channelId": GENERAL, "ts": "1.2", "userId": ALICE},
            "#general Alice Example unpinned 1.2",
        ),
        (
            {
                "type": "notification",
                "notification": {"type": "mention", "userId": BOB, "channelId": GENERAL}
                | {"ts": "1.2"},
            },
            "notification: Bob Example mentioned you in #general (1.2)",
        ),
        (
            {"type": "notification", "notification": {"type": "dm", "userId": BOB}},
            "notification: direct message from Bob Example",
        ),
        (
            {"type": "ack", "replyTo": "m1", "ok": True, "message": message()},
            "sent to #general: hi (ts 1732698061.000100)",
        ),
        (
            {"type": "ack", "ok": False, "error": {"code": "not_found", "message": "no"}},
            "not sent: not_found: no",
        ),
        ({"type": "pong", "replyTo": "p1"}, "pong"),
        (
            {"type": "error", "replyTo": "c1", "error": {"code": "invalid_request"}},
            "error (reply to c1): invalid_request",
        ),
        (
            {"type": "error", "error": {"code": "invalid_request", "message": "bad JSON"}},
            "error: invalid_request: bad JSON",
        ),
    ],
)
def test_every_api_event_gets_a_readable_line(
    names: Directory, event: dict[str, Any], line: str
) -> None:
    assert format_event(event, names) == line


@pytest.mark.parametrize(
    "event",
    [
        {"type": "hello_from_the_future", "x": 1},
        {"type": "message", "message": "not an object"},
        {"type": "channel_created"},
        {"no": "type"},
    ],
)
def test_unknown_or_misshapen_frames_are_shown_as_compact_json(
    names: Directory, event: dict[str, Any]
) -> None:
    line = format_event(event, names)
    assert line.endswith(json.dumps(event, separators=(",", ":")))


def test_long_unknown_frames_are_cut(names: Directory) -> None:
    line = format_event({"type": "big", "blob": "x" * 1000}, names)
    assert len(line) < 260
    assert line.endswith("…")


def test_directory_learns_channel_names_from_events(names: Directory) -> None:
    event = {"type": "channel_created", "channel": {"id": "C2", "name": "design"}}
    names.learn(event)
    assert names.channel("C2") == "#design"


def test_render_text_keeps_plain_text(names: Directory) -> None:
    assert render_text("no markup < here >", names) == "no markup < here >"


@pytest.mark.parametrize(
    ("raw", "frame"),
    [
        ('{"type": "pong"}', {"type": "pong"}),
        (b'{"type": "pong"}', {"type": "pong"}),
        ("not json", {"type": "unreadable", "text": "not json"}),
        ("[1, 2]", {"type": "unreadable", "text": "[1, 2]"}),
    ],
)
def test_decode_frame_always_gives_a_dict(raw: str | bytes, frame: dict[str, Any]) -> None:
    assert decode_frame(raw) == frame


def test_heartbeat_pongs_are_quiet_and_other_pongs_are_not() -> None:
    assert is_quiet({"type": "pong", "replyTo": "hb-3"})
    assert not is_quiet({"type": "pong", "replyTo": "p1"})
    assert not is_quiet({"type": "message", "replyTo": "hb-3"})


# ---------------------------------------------------------------- stack, URLs, arguments


def test_load_stack_reads_the_format_api_md_gives(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(STACK))
    stack = load_stack(path)
    assert stack == Stack(
        region="us-east-1",
        http_url="http://127.0.0.1:4000",
        ws_url="ws://127.0.0.1:4001",
        user_pool_id="p",
        client_id="c",
        cognito_endpoint="http://127.0.0.1:4002",
        demo_password="pw",
        demo_users=("alice", "bob"),
        demo_workspace_id="W0000000001",
    )


def test_load_stack_accepts_a_deployed_stack_without_demo_or_endpoint() -> None:
    deployed = {k: v for k, v in STACK.items() if k != "demo"}
    deployed["cognito"] = {"userPoolId": "us-east-1_x", "clientId": "c"}
    stack = Stack.from_json(deployed)
    assert stack.cognito_endpoint is None
    assert stack.demo_users == ()


def test_load_stack_says_to_start_the_stack_when_the_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ClientError, match="make up"):
        load_stack(tmp_path / "stack.json")


def test_load_stack_names_what_the_file_lacks(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    path.write_text(json.dumps({k: v for k, v in STACK.items() if k != "cognito"}))
    with pytest.raises(ClientError, match="cognito"):
        load_stack(path)


def test_websocket_url_carries_token_and_workspace_encoded() -> None:
    url = websocket_url("wss://x.example/dev", "a.b+c/d=", "W0000000001")
    parts = urlsplit(url)
    assert url.startswith("wss://x.example/dev?")
    assert parse_qs(parts.query) == {"token": ["a.b+c/d="], "workspaceId": ["W0000000001"]}


def test_send_message_frame_is_the_api_frame_with_a_fresh_client_msg_id() -> None:
    first = json.loads(send_message_frame("m1", GENERAL, "hi"))
    second = json.loads(send_message_frame("m1", GENERAL, "hi"))
    assert {k: v for k, v in first.items() if k != "clientMsgId"} == {
        "action": "sendMessage",
        "id": "m1",
        "channelId": GENERAL,
        "text": "hi",
    }
    assert first["clientMsgId"] != second["clientMsgId"]


def test_find_channel_by_name_with_or_without_hash() -> None:
    channels = [{"id": GENERAL, "name": "general"}, {"id": "C2", "name": "design"}]
    assert find_channel(channels, "#design") == {"id": "C2", "name": "design"}
    assert find_channel(channels, "random") is None


def test_directory_from_api_lists_names_users_and_channels() -> None:
    names = directory_from(
        [{"id": GENERAL, "name": "general"}],
        [{"user": {"id": BOB, "name": "Bob Example", "email": "b@x"}, "role": "member"}],
    )
    assert names.channel(GENERAL) == "#general"
    assert names.user(BOB) == "Bob Example"


@pytest.mark.parametrize(
    "argv",
    [["--send", "hi", "--watch"], ["--count", "2"], ["--watch", "--count", "-1"]],
    ids=["send and watch", "count without watch", "negative count"],
)
def test_parse_args_refuses_contradictions(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)


def test_parse_args_gives_send_a_default_timeout_and_watch_none() -> None:
    assert parse_args(["--user", "bob", "--send", "hi"]).timeout == 10.0
    watching = parse_args(["--watch", "--user", "alice", "--count", "3"])
    assert (watching.timeout, watching.count, watching.channel) == (None, 3, "general")


# ---------------------------------------------------------------- sessions on in-memory frames


async def frames_of(*frames: dict[str, Any]) -> AsyncIterator[str]:
    for frame in frames:
        yield json.dumps(frame)


def test_watch_prints_one_line_per_event_and_stops_at_count(names: Directory) -> None:
    out = io.StringIO()
    frames = frames_of(
        {"type": "member_joined_channel", "channelId": GENERAL, "userId": BOB},
        {"type": "presence_change", "userId": BOB, "presence": "active"},
        {"type": "pong"},
    )
    assert asyncio.run(watch(frames, names, 2, out)) == 0
    assert out.getvalue().splitlines() == ["#general Bob Example joined", "Bob Example is active"]


def test_watch_fails_when_the_connection_closes_before_count(names: Directory) -> None:
    out = io.StringIO()
    assert asyncio.run(watch(frames_of({"type": "pong"}), names, 3, out)) == 1


def test_send_once_sends_the_frame_and_succeeds_on_its_ack(names: Directory) -> None:
    sent: list[dict[str, Any]] = []

    async def send(raw: str) -> None:
        sent.append(json.loads(raw))

    async def replies() -> AsyncIterator[str]:
        while not sent:
            await asyncio.sleep(0)
        yield json.dumps({"type": "user_typing", "channelId": GENERAL, "userId": BOB})
        yield json.dumps(
            {"type": "ack", "replyTo": sent[0]["id"], "ok": True, "message": message()}
        )
        yield json.dumps({"type": "never read"})

    out = io.StringIO()
    code = asyncio.run(
        send_once(replies(), send, channel_id=GENERAL, text="hi", names=names, out=out)
    )
    assert code == 0
    assert sent[0]["action"] == "sendMessage"
    assert (sent[0]["channelId"], sent[0]["text"]) == (GENERAL, "hi")
    assert out.getvalue().splitlines()[-1] == "sent to #general: hi (ts 1732698061.000100)"


def test_send_once_fails_on_an_error_reply(names: Directory) -> None:
    sent: list[dict[str, Any]] = []

    async def send(raw: str) -> None:
        sent.append(json.loads(raw))

    async def replies() -> AsyncIterator[str]:
        yield json.dumps(
            {"type": "error", "replyTo": sent[0]["id"], "error": {"code": "not_found"}}
        )

    out = io.StringIO()
    code = asyncio.run(
        send_once(replies(), send, channel_id="C123", text="hi", names=names, out=out)
    )
    assert code == 1
    assert "not_found" in out.getvalue()
