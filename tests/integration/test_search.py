"""Search end to end on the local stack's real OpenSearch: the stream carries each change
through the forwarder and the index queue to the indexer; the route filters by membership.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from local.aws import FAKE_CREDENTIALS
from local.search_node import OpenSearchNode
from local.stack import Stack
from parley.search import mapping, reindex
from parley.search.changes import IndexChange
from parley.search.opensearch import MessageIndex, connect
from tests.integration import test_messaging
from tests.integration.test_messaging import User

pytestmark = pytest.mark.integration

team = test_messaging.team  # the same fixture: Alice's workspace with Bob and Carol

INDEXED_WITHIN_S = 10


@pytest.fixture(scope="module")
def search_node(stack: Stack) -> OpenSearchNode:
    nodes = [s for s in stack.config.services if isinstance(s, OpenSearchNode)]
    if not nodes:
        pytest.skip("no JDK or Maven on this machine: the stack runs without search")
    return nodes[0]


@pytest.fixture(scope="module")
def index(search_node: OpenSearchNode) -> MessageIndex:
    message_index = MessageIndex(connect(search_node.url, "us-east-1"))
    message_index.ensure()
    return message_index


def _search(user: User, wid: str, q: str) -> dict[str, Any]:
    status, body = user.call("GET", f"/workspaces/{wid}/search?q={quote(q)}")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def _eventually(check: Callable[[], bool], what: str, timeout_s: float = INDEXED_WITHIN_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s}s")
        time.sleep(0.25)


def _texts(user: User, wid: str, q: str) -> list[str]:
    return [r["message"]["text"] for r in _search(user, wid, q)["results"]]


# ------------------------------------------------------------------ versioning, on the index


def _change(ts: str, version: int, text: str | None = None, deleted: bool = False) -> IndexChange:
    return IndexChange(
        workspaceId="W-versioning",
        channelId="C-versioning",
        ts=ts,
        version=version,
        userId="U1",
        text=text,
        deleted=deleted,
    )


def _stored(index: MessageIndex, change: IndexChange) -> dict[str, Any]:
    found: dict[str, Any] = index.client.get(index=mapping.READ_ALIAS, id=change.doc_id)
    return found


def _ts() -> str:
    return f"1732698061.{uuid.uuid4().int % 1_000_000:06d}"


def test_a_late_older_version_never_overwrites_a_newer_one(index: MessageIndex) -> None:
    ts = _ts()
    outcome = index.write([_change(ts, 2, "edited text")], refresh=True)
    assert outcome.failed == []
    late = index.write([_change(ts, 1, "original text")], refresh=True)
    assert late.failed == []  # a 409 is done, not retried
    stored = _stored(index, _change(ts, 2))
    assert (stored["_version"], stored["_source"]["text"]) == (2, "edited text")


def test_a_repeated_change_is_done_and_changes_nothing(index: MessageIndex) -> None:
    ts = _ts()
    for _ in range(2):
        assert index.write([_change(ts, 1, "same")], refresh=True).failed == []
    assert _stored(index, _change(ts, 1))["_version"] == 1


def test_a_late_update_cannot_bring_a_deleted_message_back(index: MessageIndex) -> None:
    ts = _ts()
    index.write([_change(ts, 1, "secret plans")], refresh=True)
    index.write([_change(ts, 3, deleted=True)], refresh=True)
    assert index.write([_change(ts, 2, "secret plans, edited")], refresh=True).failed == []
    stored = _stored(index, _change(ts, 3))
    assert stored["_source"]["deleted"] is True
    assert "text" not in stored["_source"]


# ------------------------------------------------------------------ end to end


def test_a_message_sent_over_the_websocket_is_found_by_another_member(
    team: dict[str, Any], search_node: OpenSearchNode
) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    word = f"zebra{uuid.uuid4().hex[:8]}"

    async def send() -> None:
        async with alice.socket(wid) as socket:
            await socket.send(
                {
                    "action": "sendMessage",
                    "id": "1",
                    "channelId": general,
                    "text": f"the {word}s are deploying",
                }
            )
            assert (await socket.next("ack", replyTo="1"))["ok"] is True

    asyncio.run(send())
    _eventually(lambda: _search(bob, wid, word)["total"] == 1, "bob finds alice's message")
    found = _search(bob, wid, f"{word} deployed in:#general from:@{alice.id}")
    assert found["total"] == 1
    result = found["results"][0]
    assert result["channel"]["name"] == "general"
    assert result["message"]["userId"] == alice.id
    assert any("<em>" in fragment for fragment in result["highlights"])


def test_an_edit_is_found_by_its_new_words_and_a_delete_is_gone(
    team: dict[str, Any], search_node: OpenSearchNode
) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    old, new = f"old{uuid.uuid4().hex[:8]}", f"new{uuid.uuid4().hex[:8]}"
    status, posted = alice.call("POST", f"/channels/{general}/messages", {"text": f"plan {old}"})
    assert status == 201
    ts = posted["message"]["ts"]
    _eventually(lambda: _search(bob, wid, old)["total"] == 1, "the original is indexed")

    status, _ = alice.call("PATCH", f"/channels/{general}/messages/{ts}", {"text": f"plan {new}"})
    assert status == 200
    _eventually(lambda: _search(bob, wid, new)["total"] == 1, "the edit is indexed")
    assert _search(bob, wid, old)["total"] == 0

    assert alice.call("DELETE", f"/channels/{general}/messages/{ts}")[0] == 204
    _eventually(lambda: _search(bob, wid, new)["total"] == 0, "the delete is indexed")


def test_a_private_channel_is_searched_only_by_its_members(
    team: dict[str, Any], search_node: OpenSearchNode
) -> None:
    alice, bob, carol, wid = team["alice"], team["bob"], team["carol"], team["wid"]
    word = f"secret{uuid.uuid4().hex[:8]}"
    status, created = alice.call(
        "POST", f"/workspaces/{wid}/channels", {"name": f"plans-{word[-8:]}", "private": True}
    )
    assert status == 201, created
    private = created["channel"]["id"]
    assert alice.call("POST", f"/channels/{private}/members", {"userIds": [bob.id]})[0] == 200
    assert alice.call("POST", f"/channels/{private}/messages", {"text": word})[0] == 201

    _eventually(lambda: _search(bob, wid, word)["total"] == 1, "a member finds it")
    assert _search(carol, wid, word) == {"results": [], "total": 0, "nextCursor": None}
    assert _search(carol, wid, f"{word} in:#plans-{word[-8:]}")["total"] == 0

    # Decided at query time: leaving the channel removes its results at once.
    assert bob.call("POST", f"/channels/{private}/leave")[0] == 204
    assert _search(bob, wid, word)["total"] == 0


def test_bad_queries_get_a_4xx_and_outsiders_a_404(
    team: dict[str, Any], stack: Stack, search_node: OpenSearchNode
) -> None:
    alice, wid = team["alice"], team["wid"]
    status, body = alice.call("GET", f"/workspaces/{wid}/search?q=x%20before:someday")
    assert status == 400
    assert body["error"]["code"] == "invalid_request"
    assert alice.call("GET", f"/workspaces/{wid}/search")[0] == 422
    stranger = User(stack, f"stranger{uuid.uuid4().hex[:6]}")
    assert stranger.call("GET", f"/workspaces/{wid}/search?q=x")[0] == 404


def test_reindex_rebuilds_lost_documents_from_the_table(
    team: dict[str, Any],
    stack: Stack,
    index: MessageIndex,
    search_node: OpenSearchNode,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    word = f"lost{uuid.uuid4().hex[:8]}"
    assert alice.call("POST", f"/channels/{general}/messages", {"text": word})[0] == 201
    _eventually(lambda: _search(bob, wid, word)["total"] == 1, "the message is indexed")
    # The domain is lost: the index and its memory of versions with it.
    for lost in index.indices_behind(mapping.READ_ALIAS):
        index.client.indices.delete(index=lost)
    assert _search(bob, wid, word)["total"] == 0

    assert reindex.main(_reindex_arguments(stack, search_node, monkeypatch)) == 0
    index.client.indices.refresh(index=mapping.READ_ALIAS)
    assert _search(bob, wid, word)["total"] == 1


def _reindex_arguments(
    stack: Stack, search_node: OpenSearchNode, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    assert stack.aws is not None
    tables = stack.aws("dynamodb").list_tables()["TableNames"]
    table = next(name for name in tables if name.endswith("AppTable"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIALS["aws_secret_access_key"])
    return [
        *("--table", table, "--endpoint", search_node.url),
        *("--aws-endpoint-url", stack.aws_url, "--settle-seconds", "1"),
    ]


def test_reindex_into_a_new_index_while_messages_keep_arriving_loses_none(
    team: dict[str, Any],
    stack: Stack,
    index: MessageIndex,
    search_node: OpenSearchNode,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    tag = f"steady{uuid.uuid4().hex[:8]}"
    before = index.indices_behind(mapping.READ_ALIAS)
    arguments = _reindex_arguments(stack, search_node, monkeypatch)
    posted: list[str] = []
    edited: list[str] = []
    stop = threading.Event()

    def keep_posting() -> None:
        n = 0
        while not stop.is_set() or n < 10:
            status, body = alice.call(
                "POST", f"/channels/{general}/messages", {"text": f"{tag} number {n}"}
            )
            assert status == 201, body
            posted.append(body["message"]["ts"])
            if n % 5 == 0:  # and edits of messages the copy may already have read
                ts = body["message"]["ts"]
                text = {"text": f"{tag} number {n} edited{tag}"}
                assert alice.call("PATCH", f"/channels/{general}/messages/{ts}", text)[0] == 200
                edited.append(ts)
            n += 1

    writer = threading.Thread(target=keep_posting)
    writer.start()
    try:
        time.sleep(0.5)
        posted_before = len(posted)
        assert reindex.main(arguments) == 0
        assert len(posted) > posted_before, "messages kept arriving during the reindex"
    finally:
        stop.set()
        writer.join(timeout=120)

    after = index.indices_behind(mapping.READ_ALIAS)
    assert after == index.indices_behind(mapping.WRITE_ALIAS)
    assert len(after) == 1
    assert after != before
    for old in before:  # the old index is gone
        assert not index.client.indices.exists(index=old)

    found: list[str] = []

    def all_found() -> bool:
        status, body = bob.call("GET", f"/workspaces/{wid}/search?q={tag}&limit=100")
        assert status == 200, body
        found[:] = [r["message"]["ts"] for r in body["results"]]
        return bool(body["total"] == len(posted))

    _eventually(all_found, "every message posted around the reindex", timeout_s=30)
    assert sorted(found) == sorted(posted)  # each exactly once
    assert _search(bob, wid, f"edited{tag}")["total"] == len(edited)
