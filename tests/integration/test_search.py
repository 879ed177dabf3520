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
from parley.adapters.opensearch import MessageIndex, connect
from parley.search import mapping, reindex
from parley.search.changes import IndexChange
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
    return body  # type: ignore[no-any-return]  # the answer is JSON


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


def test_a_word_only_a_block_shows_finds_the_message_until_an_edit_removes_the_block(
    team: dict[str, Any], search_node: OpenSearchNode
) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    word = f"blockword{uuid.uuid4().hex[:8]}"
    blocks = [
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "deploy "},
                        {"type": "text", "text": word, "style": {"bold": True}},
                    ],
                }
            ],
        }
    ]
    body = {"text": "a deploy report", "blocks": blocks}
    status, posted = alice.call("POST", f"/channels/{general}/messages", body)
    assert status == 201, posted
    _eventually(lambda: _search(bob, wid, word)["total"] == 1, "the block's word is indexed")
    assert _search(bob, wid, word)["results"][0]["message"]["blocks"] == blocks

    url = f"/channels/{general}/messages/{posted['message']['ts']}"
    assert alice.call("PATCH", url, {"text": "a deploy report", "blocks": []})[0] == 200
    _eventually(lambda: _search(bob, wid, word)["total"] == 0, "the edit is indexed")
    found = _search(bob, wid, '"a deploy report"')["results"]
    assert posted["message"]["ts"] in [r["message"]["ts"] for r in found]  # by its text still


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


def _table(stack: Stack) -> str:
    assert stack.aws is not None
    tables = stack.aws("dynamodb").list_tables()["TableNames"]
    return next(name for name in tables if name.endswith("AppTable"))


def _reindex_arguments(
    stack: Stack, search_node: OpenSearchNode, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    table = _table(stack)
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
            if status == 429:  # the channel's rate limit, as a client honours it
                time.sleep(body["error"]["retryAfter"])
                continue
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
    # An edit is a write of its own, after its post: the last may trail the posts' totals.
    _eventually(
        lambda: _search(bob, wid, f"edited{tag}")["total"] == len(edited),
        "every edit made around the reindex",
        timeout_s=30,
    )


# ------------------------------------------------------------------ what people can find
# One workspace, one set of messages posted through the API and carried by the pipeline,
# many queries against the real analyzers.


@pytest.fixture(scope="module")
def corpus(stack: Stack, search_node: OpenSearchNode) -> dict[str, Any]:
    crew = test_messaging.make_team(stack)
    alice, bob, wid, general = crew["alice"], crew["bob"], crew["wid"], crew["general"]
    suffix = uuid.uuid4().hex[:6]
    stack.login(f"dana{suffix}", name="Dana Quill")  # a display name to search by
    dana = User(stack, f"dana{suffix}")
    _, invite = alice.call("POST", f"/workspaces/{wid}/invites")
    assert dana.call("POST", f"/invites/{invite['invite']['code']}/accept")[0] == 200
    tag = f"corpus{uuid.uuid4().hex[:8]}"
    texts: dict[str, tuple[User, str]] = {
        "phrase": (alice, "the release notes are out"),
        "reordered": (alice, "notes about the release"),
        "japanese": (bob, "今日は東京で会議があります"),
        "chinese": (bob, "我们明天发布新版本"),
        "korean": (bob, "내일 배포합니다"),
        "code": (alice, "call getUserById(user_id) then api.v2.deploy()"),
        "dana": (dana, "dana says hello"),
        "file": (alice, "spreadsheet attached"),
        **{f"page{n}": (alice, f"paged item {n}") for n in range(5)},
    }
    sent: dict[str, str] = {}
    for key, (author, text) in texts.items():
        status, body = author.call(
            "POST", f"/channels/{general}/messages", {"text": f"{tag} {text}"}
        )
        assert status == 201, body
        sent[key] = body["message"]["ts"]
    # A file attached to a message, as the file routes record it: the item's fileIds (and a
    # new version) reach the index through the stream like any edit.
    assert stack.aws is not None
    stack.aws("dynamodb").update_item(
        TableName=_table(stack),
        Key={"PK": {"S": f"CH#{general}"}, "SK": {"S": f"MSG#{sent['file']}"}},
        UpdateExpression="SET fileIds = :files, version = version + :one",
        ExpressionAttributeValues={":files": {"L": [{"S": "F0000000001"}]}, ":one": {"N": "1"}},
    )
    _eventually(
        lambda: (
            _search(bob, wid, tag)["total"] == len(texts)
            and _search(bob, wid, f"{tag} has:file")["total"] == 1
        ),
        "the corpus is indexed",
        timeout_s=30,
    )
    return {**crew, "dana": dana, "tag": tag, "sent": sent, "count": len(texts)}


def _found(corpus: dict[str, Any], q: str) -> set[str]:
    """Which corpus messages a query finds (by their keys), searching as Bob."""
    by_ts = {ts: key for key, ts in corpus["sent"].items()}
    body = _search(corpus["bob"], corpus["wid"], f"{corpus['tag']} {q}")
    return {by_ts[r["message"]["ts"]] for r in body["results"]}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('"release notes"', {"phrase"}),
        ("release notes", {"phrase", "reordered"}),
        ("東京", {"japanese"}),
        ("发布", {"chinese"}),
        ("배포", {"korean"}),
        ("getUserById", {"code"}),
        ("getuserbyid", {"code"}),
        ("user_id", {"code"}),
        ("api.v2.deploy()", {"code"}),
        ("deploy", {"code"}),
        ("has:file", {"file"}),
    ],
)
def test_words_phrases_cjk_and_code_fragments_are_found(
    corpus: dict[str, Any], q: str, expected: set[str]
) -> None:
    assert _found(corpus, q) == expected


def test_from_names_the_author_by_display_name_username_or_id(corpus: dict[str, Any]) -> None:
    dana = corpus["dana"]
    username = dana.call("GET", "/me")[1]["user"]["email"].split("@")[0]
    assert _found(corpus, 'from:"Dana Quill"') == {"dana"}
    assert _found(corpus, f"from:@{username}") == {"dana"}
    assert _found(corpus, f"from:@{dana.id}") == {"dana"}
    assert _found(corpus, "hello from:@nobody-by-that-name") == set()


def test_before_and_after_take_whole_utc_days(corpus: dict[str, Any]) -> None:
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    day = dt.timedelta(days=1)
    everything = set(corpus["sent"])
    assert _found(corpus, f"after:{today - day}") == everything
    assert _found(corpus, f"before:{today + day}") == everything
    assert _found(corpus, f"before:{today}") == set()
    assert _found(corpus, f"after:{today}") == set()


def test_results_page_through_every_match_once(corpus: dict[str, Any]) -> None:
    bob, wid, q = corpus["bob"], corpus["wid"], quote(f"{corpus['tag']} paged")
    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        status, body = bob.call("GET", f"/workspaces/{wid}/search?q={q}&limit=2{cursor}")
        assert status == 200, body
        assert body["total"] == 5
        seen += [r["message"]["ts"] for r in body["results"]]
        if body["nextCursor"] is None:
            break
        cursor = f"&cursor={body['nextCursor']}"
    assert len(seen) == 5
    assert sorted(seen) == sorted(corpus["sent"][f"page{n}"] for n in range(5))


def test_highlights_mark_the_matched_words(corpus: dict[str, Any]) -> None:
    body = _search(corpus["bob"], corpus["wid"], f"{corpus['tag']} hello")
    [result] = body["results"]
    assert any("<em>hello</em>" in fragment for fragment in result["highlights"])
