"""The WebSocket frames, checked by hand (parley.edge.frames): the cases and the messages are
those the pydantic frame models gave before them (recorded from parley.edge.schemas at 5486082),
so that clients read the same `error` frames."""

from __future__ import annotations

import json
from typing import Any

import pytest

from parley.edge import websocket
from parley.edge.frames import (
    Frame,
    MarkReadFrame,
    SendMessageFrame,
    SubscribePresenceFrame,
    TypingFrame,
)
from parley.errors import InvalidRequest

C = "C1"
TS = "1732700000.000123"
ID_RULE = "String should match pattern '^[A-Za-z0-9_-]{1,64}$'"
TS_RULE = "String should match pattern '^\\d{10}\\.\\d{6}$'"


def parse(kind: type[Frame], body: Any) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return websocket.parse({"body": raw}, kind)


def problem(kind: type[Frame], body: Any) -> str:
    with pytest.raises(InvalidRequest) as invalid:
        parse(kind, body)
    assert invalid.value.code == "invalid_request"
    return invalid.value.message


SEND = {"action": "sendMessage", "channelId": C, "text": "x"}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"action": "sendMessage", "text": "x"}, "channelId: Field required"),
        ({"action": "sendMessage"}, "channelId: Field required"),
        ({**SEND, "text": ["x"]}, "text: Input should be a valid string"),
        ({**SEND, "text": 5}, "text: Input should be a valid string"),
        ({**SEND, "text": None}, "text: Input should be a valid string"),
        ({**SEND, "channelId": "bad id!"}, f"channelId: {ID_RULE}"),
        ({**SEND, "channelId": "x" * 65}, f"channelId: {ID_RULE}"),
        ({**SEND, "channelId": ""}, f"channelId: {ID_RULE}"),
        ({**SEND, "channelId": 7}, "channelId: Input should be a valid string"),
        ({**SEND, "threadTs": "123"}, f"threadTs: {TS_RULE}"),
        ({**SEND, "threadTs": 1732700000.000123}, "threadTs: Input should be a valid string"),
        ({**SEND, "clientMsgId": ""}, "clientMsgId: String should have at least 1 character"),
        (
            {**SEND, "clientMsgId": "c" * 129},
            "clientMsgId: String should have at most 128 characters",
        ),
        ({**SEND, "clientMsgId": 5}, "clientMsgId: Input should be a valid string"),
        ({**SEND, "fileIds": "F1"}, "fileIds: Input should be a valid array"),
        (
            {**SEND, "fileIds": ["F1", 2, "bad id"]},
            f"fileIds.1: Input should be a valid string; fileIds.2: {ID_RULE}",
        ),
        (
            {**SEND, "fileIds": ["F"] * 11},
            "fileIds: List should have at most 10 items after validation, not 11",
        ),
        ({**SEND, "id": "i" * 129}, "id: String should have at most 128 characters"),
        ({**SEND, "id": [1]}, "id: Input should be a valid string or integer"),
        ({**SEND, "id": 3.5}, "id: Input should be a valid string or integer"),
        ({**SEND, "action": "ping"}, "action: Input should be 'sendMessage'"),
        ({**SEND, "action": None}, "action: Input should be 'sendMessage'"),
        ({"channelId": C, "text": "x"}, "action: Field required"),
        # pydantic's JSON parser refused the escape; the HTTP API's rule says why.
        (
            {**SEND, "text": "\ud800"},
            "text: Value error, text must be valid Unicode (no lone surrogates)",
        ),
        ('{"action": "sendMessage", "channelId": "C1", "text": "x"', "frame is not valid JSON"),
        ("", "frame is not valid JSON"),
        ("[1]", "frame must be a JSON object"),
        ('"sendMessage"', "frame must be a JSON object"),
    ],
)
def test_a_bad_send_message_frame_says_what_is_wrong(body: Any, says: str) -> None:
    assert problem(SendMessageFrame, body) == says


def test_every_problem_of_a_frame_is_named_up_to_five() -> None:
    body = {
        "action": "sendMessage",
        "channelId": ["a"],
        "text": {},
        "threadTs": 1,
        "clientMsgId": [],
        "fileIds": 3,
        "id": {},
    }
    problems = problem(SendMessageFrame, body).split("; ")
    assert problems == [
        "channelId: Input should be a valid string",
        "text: Input should be a valid string",
        "threadTs: Input should be a valid string",
        "clientMsgId: Input should be a valid string",
        "fileIds: Input should be a valid array",
    ]


def test_a_good_send_message_frame_keeps_its_fields_and_ignores_unknown_ones() -> None:
    body = {
        **SEND,
        "id": "c1",
        "threadTs": TS,
        "clientMsgId": "m-1",
        "fileIds": ["F1", "F2"],
        "newer": {"client": "field"},
    }
    assert parse(SendMessageFrame, body) == SendMessageFrame(
        channelId=C, text="x", threadTs=TS, clientMsgId="m-1", fileIds=["F1", "F2"], id="c1"
    )
    bare = parse(SendMessageFrame, {"action": "sendMessage", "channelId": C})
    assert (bare.text, bare.threadTs, bare.clientMsgId, bare.fileIds, bare.id) == (
        "",
        None,
        None,
        None,
        None,
    )
    nulls = {**SEND, "threadTs": None, "clientMsgId": None, "fileIds": None, "id": None}
    assert parse(SendMessageFrame, nulls) == SendMessageFrame(channelId=C, text="x")
    assert parse(SendMessageFrame, {**SEND, "fileIds": []}).fileIds == []


BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}, {"type": "divider"}]


def test_a_send_message_frame_carries_blocks_or_null() -> None:
    assert parse(SendMessageFrame, {**SEND, "blocks": BLOCKS}).blocks == BLOCKS
    assert parse(SendMessageFrame, {**SEND, "blocks": None}).blocks is None
    assert parse(SendMessageFrame, SEND).blocks is None


@pytest.mark.parametrize(
    ("blocks", "says"),
    [
        ("[]", "blocks: Value error, blocks must be a JSON array of objects"),
        ([{"type": "divider"}] * 51, "blocks: Value error, blocks has 51 items; the limit is 50"),
        ([{"type": "divider"}, 3], "blocks: Value error, blocks[1] must be a JSON object"),
        ([{"type": ""}], "blocks: Value error, blocks[0].type must be a non-empty string"),
        (
            [{"type": "section", "text": {"text": "\ud800"}}],
            "blocks: Value error, blocks[0] has a string with a lone surrogate",
        ),
    ],
)
def test_bad_blocks_in_a_frame_read_as_the_http_apis_422(blocks: Any, says: str) -> None:
    """The same words as POST /channels/{cid}/messages gives (tests/unit/test_messages.py)."""
    assert problem(SendMessageFrame, {**SEND, "blocks": blocks}).startswith(says)


@pytest.mark.parametrize(("given", "kept"), [(7, 7), (3.0, 3), (True, True), ("x", "x")])
def test_a_frame_id_is_a_string_or_an_integer_as_pydantic_took_it(given: Any, kept: Any) -> None:
    assert parse(SendMessageFrame, {**SEND, "id": given}).id == kept


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"action": "markRead", "channelId": C}, "ts: Field required"),
        ({"action": "markRead", "channelId": C, "ts": "now"}, f"ts: {TS_RULE}"),
        (
            {"action": "markRead", "channelId": C, "ts": 1732700000.000123},
            "ts: Input should be a valid string",
        ),
        ({"action": "markRead", "ts": TS}, "channelId: Field required"),
    ],
)
def test_a_bad_mark_read_frame_says_what_is_wrong(body: Any, says: str) -> None:
    assert problem(MarkReadFrame, body) == says


def test_a_good_mark_read_frame() -> None:
    frame = parse(MarkReadFrame, {"action": "markRead", "channelId": C, "ts": TS, "id": 4})
    assert frame == MarkReadFrame(channelId=C, ts=TS, id=4)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"action": "typing", "channelId": C, "threadTs": "x"}, f"threadTs: {TS_RULE}"),
        ({"action": "typing"}, "channelId: Field required"),
        ({"action": "markRead", "channelId": C}, "action: Input should be 'typing'"),
    ],
)
def test_a_bad_typing_frame_says_what_is_wrong(body: Any, says: str) -> None:
    assert problem(TypingFrame, body) == says


def test_a_good_typing_frame() -> None:
    assert parse(TypingFrame, {"action": "typing", "channelId": C}) == TypingFrame(channelId=C)
    threaded = parse(TypingFrame, {"action": "typing", "channelId": C, "threadTs": TS})
    assert threaded.threadTs == TS


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"action": "subscribePresence"}, "userIds: Field required"),
        (
            {"action": "subscribePresence", "userIds": "U1"},
            "userIds: Input should be a valid array",
        ),
        (
            {"action": "subscribePresence", "userIds": None},
            "userIds: Input should be a valid array",
        ),
        (
            {"action": "subscribePresence", "userIds": ["U"] * 101},
            "userIds: List should have at most 100 items after validation, not 101",
        ),
        (
            {"action": "subscribePresence", "userIds": ["ok", "not ok", 3]},
            f"userIds.1: {ID_RULE}; userIds.2: Input should be a valid string",
        ),
    ],
)
def test_a_bad_subscribe_presence_frame_says_what_is_wrong(body: Any, says: str) -> None:
    assert problem(SubscribePresenceFrame, body) == says


def test_a_good_subscribe_presence_frame() -> None:
    frame = parse(SubscribePresenceFrame, {"action": "subscribePresence", "userIds": ["U1", "U2"]})
    assert frame.userIds == ["U1", "U2"]
    assert (
        parse(SubscribePresenceFrame, {"action": "subscribePresence", "userIds": []}).userIds == []
    )
