"""Event source mapping filters, as Lambda applies FilterCriteria."""

from __future__ import annotations

from typing import Any

import pytest

from local.event_filter import passes, sqs_filter_view

RECORD = {
    "eventName": "INSERT",
    "dynamodb": {
        "Keys": {"PK": {"S": "CH#1"}},
        "NewImage": {"type": {"S": "message"}, "count": {"N": "42"}, "tags": {"SS": ["a", "b"]}},
    },
    "size": 10,
    "flag": True,
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["INSERT", "MODIFY"]}, True),
        ({"eventName": ["REMOVE"]}, False),
        ({"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "CH#"}]}}}}, True),
        ({"dynamodb": {"Keys": {"PK": {"S": [{"suffix": "#1"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"type": {"S": [{"anything-but": ["message"]}]}}}}, False),
        ({"dynamodb": {"NewImage": {"type": {"S": [{"anything-but": {"prefix": "x"}}]}}}}, True),
        ({"dynamodb": {"NewImage": {"count": {"N": [{"numeric": [">", 40, "<=", 42]}]}}}}, True),
        ({"dynamodb": {"NewImage": {"count": {"N": [{"numeric": [">", 42]}]}}}}, False),
        ({"dynamodb": {"NewImage": {"tags": {"SS": ["b"]}}}}, True),
        ({"dynamodb": {"OldImage": [{"exists": False}]}}, True),
        ({"dynamodb": {"OldImage": [{"exists": True}]}}, False),
        ({"eventName": [{"equals-ignore-case": "insert"}]}, True),
        ({"size": [10]}, True),
        ({"size": ["10"]}, False),
        ({"flag": [True]}, True),
        ({"flag": [1]}, False),
        ({"missing": ["x"]}, False),
        ({"eventName": [{"unknown-operator": 1}]}, False),
    ],
)
def test_patterns(pattern: dict[str, Any], expected: bool) -> None:
    assert passes([pattern], RECORD) is expected


def test_any_pattern_is_enough_and_no_pattern_admits_everything() -> None:
    assert passes([{"eventName": ["REMOVE"]}, {"eventName": ["INSERT"]}], RECORD)
    assert passes([], RECORD)


def test_sqs_filters_see_a_json_body_as_an_object() -> None:
    json_body = sqs_filter_view({"messageId": "m", "body": '{"kind": "work"}'})
    assert passes([{"body": {"kind": ["work"]}}], json_body)
    text_body = sqs_filter_view({"messageId": "m", "body": "plain"})
    assert passes([{"body": ["plain"]}], text_body)
    assert not passes([{"body": {"kind": ["work"]}}], text_body)


def test_the_stream_forwarders_filters_take_messages_and_new_members_and_channels() -> None:
    """The template's own patterns, through the local filter (as Lambda's would apply them):
    every change of a message (the index and the app events), and channel members joining
    and leaving and new channels (the app events)."""
    import json

    from local.template import load_yaml
    from tests.functional.conftest import ROOT

    template = load_yaml((ROOT / "template.yaml").read_text())
    source = template["Resources"]["StreamForwarderFunction"]["Properties"]["Events"]
    filters = source["TableStream"]["Properties"]["FilterCriteria"]["Filters"]
    patterns = [json.loads(f["Pattern"]) for f in filters]

    def record(name: str, pk: str, sk: str) -> dict[str, Any]:
        return {"eventName": name, "dynamodb": {"Keys": {"PK": {"S": pk}, "SK": {"S": sk}}}}

    taken = [
        record("INSERT", "CH#C1", "MSG#1.000001"),
        record("MODIFY", "CH#C1", "MSG#1.000001"),
        record("REMOVE", "CH#C1", "MSG#1.000001"),
        record("INSERT", "CH#C1", "MEMBER#u1"),
        record("REMOVE", "CH#C1", "MEMBER#u1"),
        record("INSERT", "CH#C1", "META"),
    ]
    skipped = [
        record("MODIFY", "CH#C1", "MEMBER#u1"),  # a read marker moving
        record("INSERT", "WS#W1", "MEMBER#u1"),  # a workspace member
        record("MODIFY", "CH#C1", "META"),
        record("INSERT", "USER#u1", "PROFILE"),
    ]
    assert [passes(patterns, r) for r in taken] == [True] * 6
    assert [passes(patterns, r) for r in skipped] == [False] * 4
