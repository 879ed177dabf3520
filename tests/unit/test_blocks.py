"""Block Kit blocks (parley.domain.blocks): the shape a message's blocks must have, the form a
message keeps them in, and the text that search finds in them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from parley.domain import blocks
from parley.errors import BlocksTooLong, InvalidBlocks
from parley.limits import MAX_BLOCKS_BYTES

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Deploy* finished"}}


def nested(depth: int) -> dict[str, Any]:
    """A block whose innermost list sits `depth` containers deep (the block is the first)."""
    inner: Any = []
    for _ in range(depth - 2):
        inner = [inner]
    return {"type": "section", "x": inner}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("[]", "blocks must be a JSON array of objects"),
        ({"type": "section"}, "blocks must be a JSON array of objects"),
        ([SECTION] * 51, "blocks has 51 items; the limit is 50"),
        ([SECTION, "divider"], "blocks[1] must be a JSON object"),
        ([SECTION, ["x"]], "blocks[1] must be a JSON object"),
        ([{"text": "no type"}], "blocks[0].type must be a non-empty string"),
        ([{"type": ""}], "blocks[0].type must be a non-empty string"),
        ([{"type": "  "}], "blocks[0].type must be a non-empty string"),
        ([{"type": 3}], "blocks[0].type must be a non-empty string"),
        ([{"type": None}], "blocks[0].type must be a non-empty string"),
        ([SECTION, {"type": "section", "n": float("nan")}], "blocks[1] holds a number JSON"),
        ([{"type": "section", "n": [float("inf")]}], "blocks[0] holds a number JSON"),
        ([{"type": "section", "text": {"text": "a\ud800"}}], "blocks[0] has a string with a lone"),
        ([{"type": "section", "a\udc00": 1}], "blocks[0] has a key with a lone surrogate"),
        ([{"type": "section", 7: "x"}], "blocks[0] has a key that is not a string"),
        ([{"type": "section", "x": {1, 2}}], "blocks[0] holds a set, which is not a JSON value"),
        ([nested(17)], "blocks[0] nests deeper than 16 levels"),
    ],
)
def test_a_bad_shape_is_named_with_its_place(value: Any, says: str) -> None:
    problem = blocks.shape_problem(value)
    assert problem is not None
    assert problem.startswith(says)


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        [SECTION] * 50,
        [{"type": "divider"}, {"type": "x", "n": 1.5, "b": True, "z": None, "i": 10**30}],
        [nested(16)],
    ],
)
def test_lists_of_typed_json_objects_up_to_fifty_pass(value: Any) -> None:
    assert blocks.shape_problem(value) is None


def test_a_hostile_nesting_is_refused_without_exhausting_the_stack() -> None:
    assert blocks.shape_problem([nested(100_000)]) == "blocks[0] nests deeper than 16 levels"


def test_blocks_are_kept_as_compact_json_and_read_back() -> None:
    given = [SECTION, {"type": "header", "text": {"type": "plain_text", "text": "Déploiement"}}]
    stored = blocks.to_store(given)
    assert stored == json.dumps(given, ensure_ascii=False, separators=(",", ":"))
    assert blocks.loaded(stored) == given


def test_no_blocks_and_an_empty_list_are_kept_as_nothing() -> None:
    assert blocks.to_store(None) is None
    assert blocks.to_store([]) is None
    assert blocks.loaded(None) is None


def test_a_bad_shape_is_the_domains_invalid_blocks() -> None:
    with pytest.raises(InvalidBlocks) as refused:
        blocks.to_store([{"text": "no type"}])
    assert (refused.value.status, refused.value.code) == (400, "invalid_request")
    assert refused.value.message == "blocks[0].type must be a non-empty string"


def test_blocks_over_the_size_limit_are_too_long_in_utf8_bytes() -> None:
    overhead = len(json.dumps([{"type": "section", "t": ""}], separators=(",", ":")))
    fits = [{"type": "section", "t": "x" * (MAX_BLOCKS_BYTES - overhead)}]
    assert blocks.to_store(fits) is not None
    # The same number of characters, but "é" is two bytes of UTF-8.
    over = [{"type": "section", "t": "é" * (MAX_BLOCKS_BYTES - overhead)}]
    with pytest.raises(BlocksTooLong) as refused:
        blocks.to_store(over)
    assert (refused.value.status, refused.value.code) == (413, "too_large")
    assert f"the limit is {MAX_BLOCKS_BYTES}" in refused.value.message


@pytest.mark.parametrize("stored", ["", "not json", '{"type": "section"}', '["x"]', "[]"])
def test_stored_blocks_this_code_did_not_write_read_as_none(stored: str) -> None:
    assert blocks.loaded(stored) is None


def test_text_objects_are_read_wherever_they_sit_in_reading_order() -> None:
    message = [
        {"type": "header", "text": {"type": "plain_text", "text": "Release 4.2"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "All *green*"},
            "fields": [
                {"type": "mrkdwn", "text": "*Owner*\nalice"},
                {"type": "plain_text", "text": "Region us-east-1"},
            ],
            "accessory": {
                "type": "button",
                "text": {"type": "plain_text", "text": "Open dashboard"},
                "value": "hidden-value",
                "action_id": "open_dash",
                "url": "https://example.com/dash",
            },
        },
        {"type": "divider"},
        {
            "type": "context",
            "elements": [
                {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "logo"},
                {"type": "mrkdwn", "text": "posted by the pipeline"},
            ],
        },
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Approve"}},
                {
                    "type": "static_select",
                    "placeholder": {"type": "plain_text", "text": "Pick a reviewer"},
                    "options": [
                        {"text": {"type": "plain_text", "text": "Bob"}, "value": "u-bob"},
                    ],
                },
            ],
        },
        {"type": "markdown", "text": "**Notes** are here"},
        {"type": "image", "image_url": "https://example.com/b.png", "alt_text": "chart"},
    ]
    assert blocks.text_of(message) == [
        "Release 4.2",
        "All *green*",
        "*Owner*\nalice",
        "Region us-east-1",
        "Open dashboard",
        "posted by the pipeline",
        "Approve",
        "Pick a reviewer",
        "Bob",
        "**Notes** are here",
    ]


def test_rich_text_runs_read_as_lines_with_styled_parts_joined() -> None:
    rich = {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": "Ship "},
                    {"type": "text", "text": "to", "style": {"bold": True}},
                    {"type": "text", "text": "day, ask "},
                    {"type": "user", "user_id": "U1"},
                    {"type": "emoji", "name": "tada"},
                    {"type": "link", "url": "https://example.com/runbook", "text": "the runbook"},
                ],
            },
            {
                "type": "rich_text_list",
                "style": "bullet",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "one"}]},
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "two"}]},
                ],
            },
            {
                "type": "rich_text_preformatted",
                "elements": [{"type": "text", "text": "make deploy"}],
            },
            {
                "type": "rich_text_quote",
                "elements": [{"type": "link", "url": "https://example.com/q"}],
            },
        ],
    }
    assert blocks.text_of([rich]) == [
        "Ship today, ask the runbook",
        "one",
        "two",
        "make deploy",
        "https://example.com/q",
    ]


def test_blocks_without_words_have_no_text() -> None:
    quiet = [
        {"type": "divider"},
        {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "a"},
        {"type": "section", "text": {"type": "mrkdwn", "text": "   "}},
        {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": "odd"}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": 5}},
    ]
    assert blocks.text_of(quiet) == []
