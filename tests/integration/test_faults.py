"""Faults on the local stack, ending with nothing lost: OpenSearch going down while messages
are posted, and half of a user's connections gone.

A second stack shares the session's OpenSearch node through a TCP proxy that can go down:
while it is down, connections to it are refused, exactly as a stopped node refuses them,
and both the indexer and the search route see it. A short outage is bridged by the index
queue's redelivery alone; a long one ends in the DLQ, and `parley.search.redrive` brings
every change back once the node is up again.

The index queue's visibility timeout is cut to three seconds on this stack once the indexer
is warm (180 s in the template, as Lambda advises for a 30 s function; still longer than
an invocation here, so a message is never received twice at once): the path is the same,
only faster.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import pytest

from local.pollers import LONG_POLL_S
from local.search_node import ENDPOINT_VARIABLE, OpenSearchNode
from local.stack import Stack, StackConfig
from parley.search.redrive import redrive
from tests.integration import test_messaging
from tests.integration.test_messaging import User

pytestmark = pytest.mark.integration


class SearchProxy:
    """A LocalService: a TCP proxy to an OpenSearch node that can be taken down and back."""

    name = "opensearch-proxy"

    def __init__(self, target_url: str) -> None:
        target = urlparse(target_url)
        self._target = (target.hostname or "127.0.0.1", target.port or 80)
        self._port = 0
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self, state_dir: Path) -> Mapping[str, str]:
        self.up()
        return {ENDPOINT_VARIABLE: f"http://127.0.0.1:{self._port}"}

    def stop(self) -> None:
        self.down()

    def up(self) -> None:
        listener = socket.create_server(("127.0.0.1", self._port))
        listener.settimeout(0.1)
        self._port = listener.getsockname()[1]
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()

    def down(self) -> None:
        """Stops listening and cuts every open connection: new ones are refused."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self._acceptor is not None:
            # Its poll holds the closed socket (and the port) until it returns.
            self._acceptor.join()
        with self._lock:
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        source.settimeout(None)
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            _close(sock)
            with self._lock:
                self._open.discard(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@pytest.fixture(scope="module")
def fault_stack(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    nodes = [s for s in stack.config.services if isinstance(s, OpenSearchNode)]
    if not nodes:
        pytest.skip("no JDK or Maven on this machine: the stack runs without search")
    config = StackConfig(
        state_dir=tmp_path_factory.mktemp("fault-stack"),
        http_port=0,
        ws_port=0,
        aws_port=0,
        poll_interval_s=0.05,
        prewarm=False,
        services=(SearchProxy(nodes[0].url),),
    )
    with Stack(config) as faulty:
        yield faulty


@pytest.fixture
def proxy(fault_stack: Stack) -> Iterator[SearchProxy]:
    service = fault_stack.config.services[0]
    assert isinstance(service, SearchProxy)
    yield service
    service.down()
    service.up()


def _queues(stack: Stack) -> tuple[Any, str, str]:
    assert stack.aws is not None
    sqs = stack.aws("sqs")
    url = sqs.get_queue_url
    return (
        sqs,
        url(QueueName="parley-local-IndexDeadLetterQueue")["QueueUrl"],
        url(QueueName="parley-local-IndexQueue")["QueueUrl"],
    )


def _waiting(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def _changes_in(sqs: Any, url: str) -> int:
    """How many index changes the queue's messages carry (a stream batch's changes travel
    as one pack): every message received, counted, and made visible again."""
    from parley.search.pipeline import unpack

    handles: dict[str, str] = {}
    changes: dict[str, int] = {}
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30
    ).get("Messages", []):
        for message in messages:
            handles[message["MessageId"]] = message["ReceiptHandle"]
            changes[message["MessageId"]] = len(unpack(message["Body"]))
    for handle in handles.values():
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return sum(changes.values())


def _until(check: Callable[[], bool], what: str, timeout_s: float) -> float:
    """Waits for `check`; the seconds it took."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        time.sleep(0.25)
    return time.monotonic() - start


def _found(user: User, wid: str, word: str) -> int | None:
    """How many messages the search finds; None while it answers 503 (a node that is slow
    to answer, on a loaded machine, is unavailable too)."""
    status, body = user.call("GET", f"/workspaces/{wid}/search?q={quote(word)}")
    assert status in (200, 503), body
    return int(body["total"]) if status == 200 else None


@pytest.fixture(scope="module")
def poster(fault_stack: Stack) -> tuple[User, str, str]:
    """A user, their workspace and its #general, with search already warmed up."""
    user = User(fault_stack, "fault-author")
    _, created = user.call("POST", "/workspaces", {"name": "Faults"})
    wid = created["workspace"]["id"]
    _, channels = user.call("GET", f"/workspaces/{wid}/channels")
    general = next(c["id"] for c in channels["channels"] if c["name"] == "general")
    assert user.call("POST", f"/channels/{general}/messages", {"text": "warm up"})[0] == 201
    _until(lambda: _found(user, wid, "warm") == 1, "the first message indexed", 90)
    sqs, _, queue = _queues(fault_stack)
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "3"})
    # A receive takes the queue's timeout when it starts: let the pollers' long polls that
    # began before the change run out, or their next message hides for the old 180 s.
    time.sleep(LONG_POLL_S + 1)
    return user, wid, general


def _post_all(user: User, channel: str, word: str, count: int) -> None:
    for n in range(count):
        status, body = user.call("POST", f"/channels/{channel}/messages", {"text": f"{word} {n}"})
        assert status == 201, body


def test_a_short_outage_is_bridged_by_the_queues_redelivery(
    fault_stack: Stack, proxy: SearchProxy, poster: tuple[User, str, str]
) -> None:
    user, wid, general = poster
    sqs, dlq, _ = _queues(fault_stack)
    word = f"short{uuid.uuid4().hex[:8]}"
    proxy.down()
    _post_all(user, general, word, 5)
    status, body = user.call("GET", f"/workspaces/{wid}/search?q={word}")
    assert (status, body["error"]["code"]) == (503, "unavailable")
    time.sleep(2)  # the indexer fails the batch at least once meanwhile (about 1 s a try)
    proxy.up()
    _until(lambda: _found(user, wid, word) == 5, "all five searchable", 30)
    assert _waiting(sqs, dlq) == 0


def test_a_long_outage_ends_in_the_dlq_and_the_redrive_makes_every_message_searchable(
    fault_stack: Stack, proxy: SearchProxy, poster: tuple[User, str, str]
) -> None:
    user, wid, general = poster
    sqs, dlq, queue = _queues(fault_stack)
    word = f"long{uuid.uuid4().hex[:8]}"
    proxy.down()
    _post_all(user, general, word, 20)
    # Five failed receives each (maxReceiveCount), then SQS moves them to the DLQ, in packs.
    _until(
        lambda: _waiting(sqs, queue) == 0 and _changes_in(sqs, dlq) == 20,
        "all twenty changes in the DLQ",
        90,
    )
    packs = _waiting(sqs, dlq)
    proxy.up()
    assert _found(user, wid, word) == 0  # back up, but nothing brings them back by itself
    result = redrive(sqs, dlq, queue)
    assert (result.moved, result.kept, result.failed) == (packs, 0, 0)
    _until(lambda: _found(user, wid, word) == 20, "all twenty searchable", 30)
    assert _waiting(sqs, dlq) == 0


def test_the_redrive_leaves_stream_failure_records_in_the_dlq(fault_stack: Stack) -> None:
    sqs, dlq, queue = _queues(fault_stack)
    record = '{"requestContext": {}, "DDBStreamBatchInfo": {"shardId": "s", "batchSize": 3}}'
    sqs.send_message(QueueUrl=dlq, MessageBody=record)
    try:
        result = redrive(sqs, dlq, queue)
        assert (result.moved, result.kept, result.failed) == (0, 1, 0)
        assert _waiting(sqs, dlq) == 1
    finally:
        sqs.purge_queue(QueueUrl=dlq)


# ------------------------------------------------------------------ half the connections gone


team = test_messaging.team


def test_with_half_of_a_users_connections_gone_the_live_half_gets_each_message_once(
    stack: Stack, team: dict[str, Any]
) -> None:
    """Two real sockets and two connections API Gateway no longer has (their $disconnect
    never ran): @connections answers 410 for those, they are pruned, the others get it."""
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    assert stack.aws is not None
    dynamodb = stack.aws("dynamodb")
    key = {"PK": {"S": f"USER#{bob.id}"}, "SK": {"S": f"CONNS#{wid}"}}
    ghosts = ["ghost-one=", "ghost-two="]

    async def scenario() -> None:
        async with bob.socket(wid) as first, bob.socket(wid) as second:
            dynamodb.update_item(
                TableName="parley-local-AppTable",
                Key=key,
                UpdateExpression="ADD conns :c",
                ExpressionAttributeValues={":c": {"SS": ghosts}},
            )
            for text in ("one", "two"):
                status, _ = await asyncio.to_thread(
                    alice.call, "POST", f"/channels/{general}/messages", {"text": text}
                )
                assert status == 201
            for socket_ in (first, second):
                await socket_.next("message", channelId=general)
                await socket_.next("message", channelId=general)
                texts = [f["message"]["text"] for f in socket_.seen if f.get("type") == "message"]
                assert texts == ["one", "two"]
                assert [f for f in await socket_.quiet(0.5) if f.get("type") == "message"] == []
            # Read while both sockets are open: once they close, their $disconnect runs
            # concurrently with this check and would remove them too.
            item = dynamodb.get_item(TableName="parley-local-AppTable", Key=key)["Item"]
            left = item["conns"]["SS"]
            assert len(left) == 2
            assert not set(ghosts) & set(left)

    asyncio.run(scenario())
