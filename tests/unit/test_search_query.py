"""The search query language: what users type, what the index is asked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from parley.errors import InvalidRequest
from parley.search.query import parse_query
from parley.search.request import search_body


def test_words_phrases_and_every_modifier_are_read() -> None:
    query = parse_query(
        'deploy "release notes" in:#General from:@alice after:2026-01-01 before:2026-02-01 has:file'
    )
    assert query.words == ("deploy",)
    assert query.phrases == ("release notes",)
    assert query.channels == ("general",)
    assert query.users == ("alice",)
    assert query.after == dt.date(2026, 1, 1)
    assert query.before == dt.date(2026, 2, 1)
    assert query.has_file


def test_unknown_modifiers_and_code_fragments_are_searched_as_words() -> None:
    query = parse_query("foo:bar user_id getUserById()")
    assert query.words == ("foo:bar", "user_id", "getUserById()")


def test_a_quoted_from_names_a_user_with_spaces() -> None:
    assert parse_query('from:"Bob Smith" hi').users == ("Bob Smith",)


def test_an_unclosed_quote_is_a_phrase_to_the_end() -> None:
    assert parse_query('"release notes').phrases == ("release notes",)


def test_a_modifier_alone_is_a_query() -> None:
    assert parse_query("in:#random").channels == ("random",)


@pytest.mark.parametrize(
    "text",
    ["", "   ", '""', "before:yesterday x", "after:2026-13-01 x", "has:link x", "x" * 1001],
)
def test_bad_queries_are_invalid_requests(text: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_query(text)


def test_after_must_come_before_before() -> None:
    with pytest.raises(InvalidRequest, match="earlier"):
        parse_query("x after:2026-02-01 before:2026-01-01")


def _body(text: str) -> dict[str, Any]:
    return search_body(
        parse_query(text),
        workspace_id="W1",
        channel_ids={"C2", "C1"},
        user_ids=None,
        offset=0,
        size=20,
    )


def test_every_word_must_match_and_phrases_match_exactly() -> None:
    must = _body('deploy prod "release notes"')["query"]["bool"]["must"]
    assert [clause["multi_match"]["query"] for clause in must] == [
        "deploy",
        "prod",
        "release notes",
    ]
    assert all(clause["multi_match"].get("operator") == "and" for clause in must[:2])
    assert must[2]["multi_match"]["type"] == "phrase"


def test_results_are_limited_to_the_given_channels_and_never_tombstones() -> None:
    filters = _body("x")["query"]["bool"]["filter"]
    assert {"term": {"workspaceId": "W1"}} in filters
    assert {"terms": {"channelId": ["C1", "C2"]}} in filters
    assert {"term": {"deleted": False}} in filters


def test_dates_are_whole_days_in_utc() -> None:
    filters = _body("x after:2026-01-01 before:2026-01-03")["query"]["bool"]["filter"]
    day = 86_400_000
    start_of_jan_2 = 1_767_312_000_000
    assert {"range": {"sentAt": {"gte": start_of_jan_2, "lt": start_of_jan_2 + day}}} in filters
