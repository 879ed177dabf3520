"""From table changes to index changes: versions, tombstones, and the pipeline's failures.

`parley.search.pipeline` is imported inside the tests: it brings Powertools' metrics, whose
namespace comes from the environment that the session fixture sets after collection.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pytest

from parley.adapters.opensearch import WriteOutcome, _latest_per_document
from parley.search.changes import IndexChange, change_from_stream, indexed_text, sent_at_millis
from parley.streams import StreamRecord

if TYPE_CHECKING:
    pass

IMAGE = {
    "PK": "CH#C1",
    "SK": "MSG#1732698061.000100",
    "workspaceId": "W1",
    "channelId": "C1",
    "ts": "1732698061.000100",
    "userId": "U1",
    "text": "hello world",
    "version": 3,
}


def test_an_insert_or_edit_carries_the_items_version_and_text() -> None:
    change = change_from_stream("MODIFY", IMAGE, None)
    assert change is not None
    assert (change.version, change.text, change.deleted) == (3, "hello world", False)


def test_a_delete_is_a_tombstone_one_version_above_the_last_image() -> None:
    change = change_from_stream("REMOVE", None, IMAGE)
    assert change is not None
    assert (change.version, change.deleted) == (4, True)
    assert "text" not in change.document()


def test_items_that_are_not_messages_are_not_indexed() -> None:
    channel = {"PK": "CH#C1", "SK": "META", "name": "general"}
    assert change_from_stream("INSERT", channel, None) is None
    assert change_from_stream("REMOVE", None, channel) is None


def test_file_ids_mark_a_message_as_having_a_file() -> None:
    change = change_from_stream("INSERT", {**IMAGE, "fileIds": ["F1"]}, None)
    assert change is not None
    assert change.hasFile


BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "hello world"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "rollout *paused*"}},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "rollout *paused*"}]},
    {
        "type": "actions",
        "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Resume"}}],
    },
]


def test_the_text_of_blocks_is_indexed_after_the_text_once() -> None:
    """The header repeats the text (a fallback often does) and the context the section:
    each is found already, so neither is indexed twice."""
    change = change_from_stream("MODIFY", {**IMAGE, "blocks": json.dumps(BLOCKS)}, None)
    assert change is not None
    assert change.text == "hello world\nrollout *paused*\nResume"
    assert change.document()["text"] == change.text


def test_a_message_of_blocks_alone_is_indexed_by_their_text() -> None:
    image = {**IMAGE, "text": "", "blocks": json.dumps(BLOCKS[1:])}
    assert indexed_text("", image["blocks"]) == "rollout *paused*\nResume"
    change = change_from_stream("INSERT", image, None)
    assert change is not None
    assert change.text == "rollout *paused*\nResume"


def test_unreadable_blocks_leave_the_text_as_it_is() -> None:
    assert indexed_text("hello world", "not json") == "hello world"
    assert indexed_text("hello world", None) == "hello world"


def test_sent_at_is_the_ts_in_milliseconds() -> None:
    assert sent_at_millis("1732698061.000100") == 1_732_698_061_000
    assert sent_at_millis("1732698061.999999") == 1_732_698_061_999


def _change(version: int, text: str = "x") -> IndexChange:
    return IndexChange(workspaceId="W1", channelId="C1", ts="1.000001", version=version, text=text)


def test_a_bulk_sends_only_the_highest_version_of_each_message() -> None:
    outcome = WriteOutcome()
    old, new, repeat = _change(1), _change(2), _change(2)
    assert _latest_per_document([old, new, repeat], outcome) == [new]
    assert outcome.done == [old, repeat]


class _Queue:
    def __init__(self, refuse: set[str]) -> None:
        self.refuse = refuse
        self.sent: list[tuple[str, str]] = []

    def send(self, bodies: Sequence[tuple[str, str]]) -> set[str]:
        self.sent.extend(b for b in bodies if b[0] not in self.refuse)
        return {b[0] for b in bodies if b[0] in self.refuse}


def _record(sequence: str, image: dict[str, Any]) -> StreamRecord:

    return StreamRecord(sequence, "INSERT", image, None)


def test_the_forwarder_sends_a_batch_as_one_pack() -> None:
    from parley.search import pipeline

    records = [_record(str(n), {**IMAGE, "ts": f"1.00000{n}"}) for n in range(1, 5)]
    queue = _Queue(refuse=set())
    assert pipeline.forward(records, queue) is None
    ((first, body),) = queue.sent
    assert first == "1"
    assert [c.ts for c in pipeline.unpack(body)] == ["1.000001", "1.000002", "1.000003", "1.000004"]


def test_packs_stay_under_their_size_and_a_refused_one_is_retried_from_its_first_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from parley.search import pipeline

    one = len(
        pipeline.change_from_stream("INSERT", {**IMAGE, "ts": "1.000001"}, None).model_dump_json()
    )  # type: ignore[union-attr]  # a message image always makes a change
    monkeypatch.setattr(pipeline, "PACK_BYTES", 2 * one + 20)  # two changes a pack
    records = [_record(str(n), {**IMAGE, "ts": f"1.00000{n}"}) for n in range(1, 6)]
    queue = _Queue(refuse={"3"})
    assert pipeline.forward(records, queue) == "3"
    assert [(first, len(pipeline.unpack(body))) for first, body in queue.sent] == [
        ("1", 2),
        ("5", 1),
    ]
    assert all(len(body.encode()) <= pipeline.PACK_BYTES for _, body in queue.sent)


def test_a_pack_is_sized_in_bytes_not_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    from parley.search import pipeline

    text = "\u6f22\u5b57" * 500  # 1,000 characters, 3,000 bytes of UTF-8
    records = [_record(str(n), {**IMAGE, "ts": f"1.00000{n}", "text": text}) for n in range(1, 5)]
    monkeypatch.setattr(pipeline, "PACK_BYTES", 7_000)  # two such changes, in bytes
    queue = _Queue(refuse=set())
    assert pipeline.forward(records, queue) is None
    assert [len(pipeline.unpack(body)) for _, body in queue.sent] == [2, 2]
    assert all(len(body.encode()) <= pipeline.PACK_BYTES for _, body in queue.sent)


def test_the_forwarder_reports_nothing_when_all_were_sent() -> None:
    from parley.search import pipeline

    assert pipeline.forward([_record("1", IMAGE)], _Queue(refuse=set())) is None


class _Index:
    def __init__(self, fail_versions: set[int]) -> None:
        self.fail_versions = fail_versions

    def write(self, changes: Sequence[IndexChange]) -> WriteOutcome:
        return WriteOutcome(
            done=[c for c in changes if c.version not in self.fail_versions],
            failed=[c for c in changes if c.version in self.fail_versions],
        )


def test_the_indexer_redelivers_failed_and_unreadable_messages_only() -> None:
    from parley.search import pipeline

    queued = [
        pipeline.QueuedChange("m1", _change(1).model_dump_json()),
        pipeline.QueuedChange(
            "m2", IndexChange(**{**_change(5).model_dump(), "ts": "2.0"}).model_dump_json()
        ),
        pipeline.QueuedChange("m3", "not json"),
    ]
    assert sorted(pipeline.index(queued, _Index(fail_versions={5}))) == ["m2", "m3"]


def _pack(*changes: IndexChange) -> str:
    return json.dumps({"changes": [c.model_dump() for c in changes]})


def test_a_pack_with_a_failed_change_is_redelivered_whole() -> None:
    from parley.search import pipeline

    pack = _pack(_change(1), IndexChange(**{**_change(5).model_dump(), "ts": "2.0"}))
    good = _pack(IndexChange(**{**_change(2).model_dump(), "ts": "3.0"}))
    queued = [pipeline.QueuedChange("p1", pack), pipeline.QueuedChange("p2", good)]
    assert pipeline.index(queued, _Index(fail_versions={5})) == ["p1"]
    assert pipeline.index(queued, _Index(fail_versions=set())) == []


def test_the_index_lag_is_the_wait_of_the_oldest_change_written() -> None:
    from parley.observability import metrics
    from parley.search import pipeline

    queued = [
        pipeline.QueuedChange("m1", _change(1).model_dump_json(), sent_at_ms=1_000_000),
        pipeline.QueuedChange(
            "m2",
            IndexChange(**{**_change(2).model_dump(), "ts": "2.0"}).model_dump_json(),
            sent_at_ms=1_000_500,
        ),
        # Not written (it is retried): its wait is not the lag of what search shows.
        pipeline.QueuedChange(
            "m3",
            IndexChange(**{**_change(5).model_dump(), "ts": "3.0"}).model_dump_json(),
            sent_at_ms=900_000,
        ),
    ]
    metrics.clear_metrics()
    try:
        pipeline.index(queued, _Index(fail_versions={5}), clock=lambda: 1_002.0)
        assert metrics.metric_set["SearchIndexLag"]["Value"] == [2_000.0]
        assert metrics.metric_set["SearchIndexLag"]["Unit"] == "Milliseconds"
    finally:
        metrics.clear_metrics()


def test_no_index_lag_without_send_times() -> None:
    from parley.observability import metrics
    from parley.search import pipeline

    metrics.clear_metrics()
    try:
        pipeline.index([pipeline.QueuedChange("m1", _change(1).model_dump_json())], _Index(set()))
        assert "SearchIndexLag" not in metrics.metric_set
    finally:
        metrics.clear_metrics()
