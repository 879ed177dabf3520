"""The index's aliases and multi-index writes, against an in-memory stand-in for the client
(the real node is exercised in tests/integration/test_search.py)."""

from __future__ import annotations

from typing import Any

import pytest
from opensearchpy.exceptions import NotFoundError

from parley.adapters.dynamodb.items import MessageItem
from parley.adapters.opensearch import MessageIndex
from parley.search import mapping
from parley.search.changes import IndexChange
from parley.search.reindex import rebuild


class FakeIndices:
    def __init__(self, aliases: dict[str, set[str]]) -> None:
        self.aliases = aliases  # index -> its aliases
        self.templates: list[str] = []

    def put_index_template(self, name: str, body: Any) -> None:
        self.templates.append(name)

    def exists_alias(self, name: str) -> bool:
        return any(name in names for names in self.aliases.values())

    def get_alias(self, name: str) -> dict[str, Any]:
        found = {index: {} for index, names in self.aliases.items() if name in names}
        if not found:
            raise NotFoundError(404, "aliases_not_found_exception", {})
        return found

    def update_aliases(self, body: Any) -> None:
        for action in body["actions"]:
            ((kind, spec),) = action.items()
            names = self.aliases.setdefault(spec["index"], set())
            (names.add if kind == "add" else names.discard)(spec["alias"])

    def create(self, index: str, body: Any = None) -> None:
        self.aliases[index] = set((body or {}).get("aliases", ()))

    def get(self, index: str) -> dict[str, Any]:
        return {name: {} for name in self.aliases if name.startswith(index.rstrip("*"))}

    def delete(self, index: str, ignore_unavailable: bool = False) -> None:
        del self.aliases[index]


class FakeClient:
    def __init__(self, aliases: dict[str, set[str]], statuses: dict[str, int] | None = None):
        self.indices = FakeIndices(aliases)
        self.statuses = statuses or {}  # index -> the status its writes get
        self.bulks: list[list[dict[str, Any]]] = []

    def bulk(self, body: list[dict[str, Any]], refresh: str) -> dict[str, Any]:
        self.bulks.append(body)
        actions = body[::2]
        return {
            "items": [
                {"index": {"status": self.statuses.get(a["index"]["_index"], 201)}} for a in actions
            ]
        }


def change(ts: str = "1732698061.000100", version: int = 1) -> IndexChange:
    return IndexChange(
        workspaceId="W1", channelId="C1", ts=ts, version=version, userId="U1", text="hi"
    )


def test_a_new_domain_gets_the_first_index_behind_both_aliases() -> None:
    client = FakeClient({})
    MessageIndex(client).ensure()  # type: ignore[arg-type]  # FakeClient plays the OpenSearch client's few calls
    assert client.indices.aliases == {"messages-v1": {mapping.READ_ALIAS, mapping.WRITE_ALIAS}}
    assert client.indices.templates == [mapping.TEMPLATE]


def test_a_deployment_from_before_the_write_alias_gets_it_on_its_index() -> None:
    client = FakeClient({"messages-v1": {"messages"}})
    MessageIndex(client).ensure()  # type: ignore[arg-type]  # FakeClient plays the OpenSearch client's few calls
    assert client.indices.aliases == {"messages-v1": {"messages", "messages-write"}}
    MessageIndex(client).ensure()  # type: ignore[arg-type]  # and again: nothing changes
    assert client.indices.aliases == {"messages-v1": {"messages", "messages-write"}}


def test_during_a_reindex_each_change_goes_to_both_indices_and_is_done_when_both_took_it() -> None:
    aliases = {"messages-v1": {"messages", "messages-write"}, "messages-v2": {"messages-write"}}
    client = FakeClient(aliases, statuses={"messages-v1": 409})  # v1 already had it
    outcome = MessageIndex(client).write([change()])  # type: ignore[arg-type]  # FakeClient plays the OpenSearch client's few calls
    assert [a["index"]["_index"] for a in client.bulks[0][::2]] == ["messages-v1", "messages-v2"]
    assert (len(outcome.done), outcome.failed) == (1, [])


@pytest.mark.parametrize(
    ("statuses", "attempts", "failed"),
    [
        ({"messages-v2": 429}, 2, 1),  # retried, then returned for the queue to redeliver
        ({"messages-v1": 400}, 1, 1),  # one index refuses it: not done, not retried
        ({}, 1, 0),
    ],
)
def test_a_change_one_index_did_not_take_is_not_done(
    statuses: dict[str, int], attempts: int, failed: int
) -> None:
    aliases = {"messages-v1": {"messages", "messages-write"}, "messages-v2": {"messages-write"}}
    client = FakeClient(aliases, statuses)
    outcome = MessageIndex(client).write([change()], attempts=2, base_delay_s=0)  # type: ignore[arg-type]  # FakeClient plays the OpenSearch client's few calls
    assert len(client.bulks) == attempts
    assert len(outcome.failed) == failed


def test_a_write_names_one_index_when_asked() -> None:
    aliases = {"messages-v1": {"messages", "messages-write"}, "messages-v2": {"messages-write"}}
    client = FakeClient(aliases)
    MessageIndex(client).write([change()], index="messages-v2")  # type: ignore[arg-type]  # FakeClient plays the OpenSearch client's few calls
    assert [a["index"]["_index"] for a in client.bulks[0][::2]] == ["messages-v2"]


@pytest.mark.parametrize(
    ("name", "generation"),
    [("messages-v1", 1), ("messages-v12", 12), ("messages", None), ("messages-write", None)],
)
def test_index_generations(name: str, generation: int | None) -> None:
    assert mapping.generation_of(name) == generation
    if generation is not None:
        assert mapping.index_name(generation) == name


def message(ts: str) -> MessageItem:
    return MessageItem(
        "CH#C1", f"MSG#{ts}", channelId="C1", workspaceId="W1", ts=ts, userId="U1", text="hi"
    )


def test_a_rebuild_copies_into_the_next_generation_and_switches_both_aliases() -> None:
    client = FakeClient({"messages-v1": {"messages", "messages-write"}})
    result = rebuild([message("1.000001"), message("1.000002")], MessageIndex(client), settle_s=0)  # type: ignore[arg-type]  # FakeClient plays the OpenSearch client's few calls
    assert (result.index, result.copied, result.failed, result.dropped) == (
        "messages-v2",
        2,
        0,
        ("messages-v1",),
    )
    assert client.indices.aliases == {"messages-v2": {"messages", "messages-write"}}
    assert {a["index"]["_index"] for a in client.bulks[0][::2]} == {"messages-v2"}


def test_a_rebuild_indexes_the_text_of_the_blocks_as_the_indexer_does() -> None:
    client = FakeClient({"messages-v1": {"messages", "messages-write"}})
    item = message("1.000001")
    item.blocks = '[{"type":"section","text":{"type":"mrkdwn","text":"only in a block"}}]'
    rebuild([item], MessageIndex(client), settle_s=0)  # type: ignore[arg-type]  # FakeClient plays the OpenSearch client's few calls
    assert client.bulks[0][1]["text"] == "hi\nonly in a block"


def test_a_failed_copy_drops_the_new_index_and_leaves_the_live_one() -> None:
    client = FakeClient({"messages-v1": {"messages", "messages-write"}}, {"messages-v2": 400})
    result = rebuild([message("1.000001")], MessageIndex(client), settle_s=0)  # type: ignore[arg-type]  # FakeClient plays the OpenSearch client's few calls
    assert (result.index, result.failed, result.dropped) == ("messages-v1", 1, ())
    assert client.indices.aliases == {"messages-v1": {"messages", "messages-write"}}
