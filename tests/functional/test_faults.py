"""Faults that must end with nothing lost: DynamoDB throttling, a poison stream record, and
half of a channel's connections gone. (OpenSearch going down is an integration test:
tests/integration/test_faults.py; the notifier reporting a poison record alone is
test_notifications.py's test_a_poison_record_fails_alone_and_the_rest_of_the_batch_goes_on.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse

from local.pollers import StreamPoller
from local.sam import StreamSource
from local.workers import Invocation
from tests.functional.conftest import BOB, Api, Context, RecordingPoster, load_function, post
from tests.functional.conftest import template as parley_template
from tests.functional.test_local_pollers import STREAM_ARN, FakeAws, FakePool
from tests.functional.test_notifications import listed, record
from tests.functional.test_notifications import post as post_ts

# ------------------------------------------------------------------ DynamoDB throttling


def test_the_shared_client_retries_in_standard_mode_with_explicit_attempts(
    poster: RecordingPoster,
) -> None:
    from parley.adapters.dynamodb.base import DYNAMODB_MAX_ATTEMPTS, botocore_client
    from parley.wiring import configured

    configured()
    assert botocore_client().meta.config.retries == {
        "mode": "standard",
        "total_max_attempts": DYNAMODB_MAX_ATTEMPTS,
    }


@contextmanager
def throttled(first: int, code: str) -> Iterator[list[str]]:
    """The shared client's first `first` HTTP sends answer 400 `code`, as DynamoDB does when
    a partition is over its throughput; yields the operations that were throttled."""
    from parley.adapters.dynamodb.base import botocore_client

    events = botocore_client().meta.events
    throttles: list[str] = []

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        if len(throttles) >= first:
            return None
        throttles.append(request.headers["X-Amz-Target"].decode().split(".")[-1])
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "slow"})
        return AWSResponse(request.url, 400, {}, MockRawResponse(body))

    events.register_first("before-send.dynamodb.*", answer)
    try:
        yield throttles
    finally:
        events.unregister("before-send.dynamodb.*", answer)


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry delays botocore asks for (not slept, so the test stays fast)."""
    import botocore.endpoint

    delays: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", delays.append)
    return delays


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_throttled_writes_are_retried_with_jittered_backoff_and_nothing_is_lost(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster, backoffs, code: str
) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    connect("bob-1", BOB, wid)
    sent = []
    for n in range(4):
        with throttled(first=3, code=code) as throttles:
            sent.append(post(api, cid, f"under pressure {n}"))
        assert len(throttles) == 3  # each throttled send was retried until it went through
    _, history = api("GET", f"/channels/{cid}/messages", user=BOB)
    assert [m["text"] for m in history["messages"]] == [
        f"under pressure {n}" for n in range(3, -1, -1)
    ]
    assert [e["message"]["ts"] for e in poster.events("bob-1", "message")] == [
        m["ts"] for m in sent
    ]
    # Throttling backs off from 1 s: attempt i waits random() * 2^i, so the three retries in
    # a row wait at most 1, 2 and 4 s, and the waits differ (jitter).
    assert len(backoffs) == 12
    for i, delay in enumerate(backoffs):
        assert 0 <= delay <= 2 ** (i % 3)
    assert len(set(backoffs)) == len(backoffs)


def test_throttling_that_outlasts_the_attempts_fails_the_request_without_a_half_write(
    api: Api, workspace: dict[str, str], backoffs
) -> None:
    from parley.adapters.dynamodb.base import DYNAMODB_MAX_ATTEMPTS

    cid = workspace["general"]
    post(api, cid, "before")
    with (
        throttled(first=100, code="ProvisionedThroughputExceededException") as throttles,
        pytest.raises(Exception, match="ProvisionedThroughputExceeded"),
    ):
        api("POST", f"/channels/{cid}/messages", body={"text": "refused"})
    # The post's first round, the audience's Query and the rate limit's UpdateItem side by
    # side: each request throttled at every attempt, and nothing after them was sent.
    assert sorted(throttles) == sorted(["Query", "UpdateItem"] * DYNAMODB_MAX_ATTEMPTS)
    _, history = api("GET", f"/channels/{cid}/messages")
    assert [m["text"] for m in history["messages"]] == ["before"]


# ------------------------------------------------------------------ OpenSearch too slow


def test_a_node_that_times_out_while_the_index_is_made_is_unavailable_not_a_crash() -> None:
    """The indexer then returns its batch to the queue and the search route answers 503."""
    from opensearchpy.exceptions import ConnectionTimeout, NotFoundError

    from parley.adapters.opensearch import MessageIndex, SearchUnavailable

    class SlowIndices:
        def put_index_template(self, **_: Any) -> None: ...

        def exists_alias(self, **_: Any) -> bool:
            return False

        def get_alias(self, **_: Any) -> None:  # a new domain: no index behind any alias
            raise NotFoundError(404, "index_not_found_exception", {})

        def create(self, **_: Any) -> None:
            raise ConnectionTimeout("TIMEOUT", "Read timed out. (read timeout=5.0)", None)

    client = type("SlowNode", (), {"indices": SlowIndices()})()
    with pytest.raises(SearchUnavailable, match="unreachable"):
        MessageIndex(client).ensure()


# ------------------------------------------------------------------ a poison stream record


def poison_record() -> dict[str, Any]:
    """A message INSERT whose image no version of the code can read (no text, no userId)."""
    keys = {"PK": {"S": "CH#CPOISON"}, "SK": {"S": "MSG#1767225600.000001"}}
    return {
        "eventID": "poison",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": keys,
            "NewImage": {**keys, "version": {"S": "not a number"}},
            "SequenceNumber": "000000000000000000500",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


class NotifierPool(FakePool):
    """The real notifier, in process, behind the local stream poller."""

    def __init__(self, records: dict[str, dict[str, Any]]) -> None:
        super().__init__(self._run)
        self.spec = type(self.spec)(**{**vars(self.spec), "logical_id": "NotifierFunction"})
        self._records = records

    def _run(self, batch: list[str]) -> Invocation:
        event = {"Records": [self._records[sequence] for sequence in batch]}
        reply = load_function("notifier").lambda_handler(event, Context())
        return Invocation("r", payload=reply)


def test_the_stream_poller_retries_past_a_poison_record_and_sends_it_to_the_dlq(
    api: Api, workspace: dict[str, str]
) -> None:
    """The template's own mapping settings: partial failures checkpoint at the poison, every
    retry still processes the records behind it, and when the attempts run out the batch
    from the poison on goes to the DLQ; the records after that batch are processed."""
    props = parley_template()["Resources"]["NotifierFunction"]["Properties"]
    stream = props["Events"]["TableStream"]["Properties"]
    cid = workspace["general"]
    records = [record(cid, post_ts(api, cid, f"<@{BOB}> number {n}")) for n in range(6)]
    records.insert(2, poison_record())
    by_sequence = {r["dynamodb"]["SequenceNumber"]: r for r in records}
    source = StreamSource(
        function="NotifierFunction",
        stream_arn=STREAM_ARN,
        starting_position=stream["StartingPosition"],
        batch_size=4,  # smaller than the template's 100, so that a batch follows the poison's
        batching_window_s=0,
        filters=(),
        report_item_failures=stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"],
        max_retries=stream["MaximumRetryAttempts"],
        bisect_on_error=stream["BisectBatchOnFunctionError"],
        on_failure_arn="arn:aws:sqs:us-east-1:123456789012:NotifierDeadLetterQueue",
    )
    pool, dlq = NotifierPool(by_sequence), FakeAws()
    poller = StreamPoller(source, pool, dlq, poll_interval_s=0)  # type: ignore[arg-type]  # FakePool and the DLQ stand-in play the pool and AWS
    pending = list(records)
    asyncio.run(poller._deliver(pending, "shard-1"))
    while pending:
        asyncio.run(poller._deliver(pending, "shard-1"))

    poison = records[2]["dynamodb"]["SequenceNumber"]
    assert len(pool.batches) == 1 + stream["MaximumRetryAttempts"] + 1
    assert all(batch[0] == poison for batch in pool.batches[1:-1])
    (failure,) = dlq.sent
    assert failure["url"].endswith("/NotifierDeadLetterQueue")
    assert failure["DDBStreamBatchInfo"]["startSequenceNumber"] == poison
    # Every good record was notified exactly once, the poison's neighbours included.
    texts = sorted(n["ts"] for n in listed(api, BOB)["notifications"])
    assert texts == sorted(
        r["dynamodb"]["NewImage"]["SK"]["S"][4:] for r in records if r is not records[2]
    )


# ------------------------------------------------------------------ half the connections gone


def test_with_half_the_connections_gone_they_are_pruned_and_the_rest_get_it_once(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    from parley.adapters.dynamodb import connections

    wid, cid = workspace["wid"], workspace["general"]
    live = [f"bob-live-{n}" for n in range(10)]
    gone = [f"bob-gone-{n}" for n in range(10)]
    for connection in live + gone:
        connect(connection, BOB, wid)
    poster.gone.update(gone)
    first = post(api, cid, "are you there?")
    second = post(api, cid, "still there?")
    for connection in live:
        assert [e["message"]["ts"] for e in poster.events(connection, "message")] == [
            first["ts"],
            second["ts"],
        ]
    assert all(connections.get_connection(c) is None for c in gone)
    assert set(connections.live_connections(wid, [BOB])) == set(live)
