"""Large channels: a message to 50,000 members with L of them online, through the queue path.

Parley's own code runs on moto in this process (bench/fanout.py's tables): the request's
`messages.post_message` (the member list and the online index read, the first slice posted,
the rest queued) and `consumers` consumers, each a `Broadcaster.run_job` of its own, as
functions/fanout runs a job in its own Lambda instance.

moto takes about a second to answer one 1 MB page of a 50,000-item partition (DynamoDB tens
of milliseconds), so the audience's two reads (`channel_with_members`, `live_connections`)
are made on moto before the send, where their read units and pages are counted (the member
list once for all rows: the same channel and members), and the timed send gets the same
answers after DDB_PAGE_MS a page. Everything else in the send is on moto.
`@connections` is a stand-in that takes POST_MS per post (a thread sleeping: the latency
of a real post, not its CPU); the fan-out queue is an in-process queue that makes a job
visible QUEUE_MS after it is sent (SQS's and the event source mapping's delivery).

Measured per row: the sender's ack (post_message returning), the last delivery (from the
send), the longest invocation (the request's or a job's), the read units of the whole
event, connections that got nothing (lost) or more than once (duplicated), and the highest
post rate in any one-second window against MaxPostsPerSecond. Targets (issue #23): last
delivery ≤ 1 s + 1.25 x live / maxPostsPerS; no invocation over 10 s; read units ≤ 0.6 per
live connection + 20; nothing lost or duplicated; the rate within its limit.
"""

from __future__ import annotations

import bisect
import queue
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench import fanout
from bench.capacity import request_units

MEMBERS = 50_000
POST_MS = 20.0
QUEUE_MS = 20.0
DDB_PAGE_MS = 15.0  # a 1 MB Query page
MAX_POSTS_PER_S = 5000
CONSUMERS = 10
THRESHOLD = 1000
CHANNEL = "CLARGE000001"


class SlowPoster:
    """@connections stand-in: each post takes `POST_MS`; records when each post started
    and ended, and how many times each connection was posted to."""

    def __init__(self, post_ms: float) -> None:
        self._post_s = post_ms / 1000
        self._lock = threading.Lock()
        self.starts: list[float] = []
        self.last_end = 0.0
        self.counts: Counter[str] = Counter()

    def post(self, connection_id: str, data: bytes) -> bool:
        started = time.perf_counter()
        time.sleep(self._post_s)
        ended = time.perf_counter()
        with self._lock:
            self.starts.append(started)
            self.last_end = max(self.last_end, ended)
            self.counts[connection_id] += 1
        return True


class DelayedQueue:
    """The fan-out queue: a job is received `delay_s` after it is sent."""

    def __init__(self, delay_s: float) -> None:
        self._delay_s = delay_s
        self._jobs: queue.Queue[tuple[float, str] | None] = queue.Queue()
        self.sent = 0

    def send(self, bodies: Sequence[tuple[str, str]]) -> set[str]:
        visible = time.perf_counter() + self._delay_s
        for _, body in bodies:
            self._jobs.put((visible, body))
            self.sent += 1
        return set()

    def receive(self) -> str | None:
        item = self._jobs.get()
        if item is None:
            return None
        visible, body = item
        time.sleep(max(0.0, visible - time.perf_counter()))
        return body

    def close(self, consumers: int) -> None:
        for _ in range(consumers):
            self._jobs.put(None)


def _consume(jobs: DelayedQueue, broadcaster: Any, invocations: list[float]) -> None:
    from parley.adapters.fanout import Job

    while (body := jobs.receive()) is not None:
        started = time.perf_counter()
        broadcaster.run_job(Job.parse(body))
        invocations.append(time.perf_counter() - started)


def _peak_rate(starts: list[float]) -> float:
    """The most posts that started in any one second."""
    ordered = sorted(starts)
    return float(
        max(
            (bisect.bisect_left(ordered, start + 1.0) - i for i, start in enumerate(ordered)),
            default=0,
        )
    )


@dataclass(frozen=True)
class MemberList:
    """The channel and its member list as `channel_with_members` reads them on moto: the
    same for every row (one channel, the same members), so read once."""

    channel: Any
    read_units: float
    pages: int

    @classmethod
    def read(cls, channel_id: str) -> MemberList:
        from parley.adapters.dynamodb import channels as channel_store
        from parley.adapters.dynamodb.base import botocore_client

        with request_units(botocore_client()) as units:
            channel = channel_store.channel_with_members(channel_id)
        return cls(channel, units.read, sum(units.requests.values()))


class Audience:
    """The audience's reads, made on moto (their read units and pages counted; the member
    list once for every row), then answered from memory after DDB_PAGE_MS a page."""

    def __init__(self, member_list: MemberList) -> None:
        from parley.adapters.dynamodb import connections as connection_store
        from parley.adapters.dynamodb.base import botocore_client

        self.channel = member_list.channel
        with request_units(botocore_client()) as units:
            self.targets = connection_store.live_connections(fanout.WORKSPACE, self.channel[1])
        self.read_units = member_list.read_units + units.read
        self.pages = member_list.pages + sum(units.requests.values())

    def channel_with_members(self, channel_id: str) -> Any:
        time.sleep(DDB_PAGE_MS / 1000 * (self.pages - 1))  # the member list's pages
        return self.channel

    def live_connections(self, workspace_id: str, user_ids: list[str]) -> dict[str, str]:
        time.sleep(DDB_PAGE_MS / 1000)
        return dict(self.targets)


def _row(
    live: int,
    *,
    members: list[str],
    member_list: MemberList,
    channel_id: str,
    consumers: int,
    max_posts_per_s: int,
    threshold: int,
) -> dict[str, Any]:
    from parley.adapters.dynamodb import channels as channel_store
    from parley.adapters.dynamodb import connections as connection_store
    from parley.adapters.dynamodb.base import botocore_client
    from parley.adapters.fanout import Broadcaster, Pacing
    from parley.domain import messages
    from parley.domain.caller import Caller
    from parley.edge.schemas import PostMessage

    online = members[1 : live + 1]  # the sender has no connection
    fanout._connect(online)
    audience = Audience(member_list)
    pacing = Pacing(threshold, max_posts_per_s, consumers)
    poster = SlowPoster(POST_MS)
    jobs = DelayedQueue(QUEUE_MS / 1000)
    request = Broadcaster(poster, max_workers=fanout.POOL, queue=jobs, pacing=pacing)
    invocations: list[float] = []
    threads = [
        threading.Thread(
            target=_consume,
            args=(
                jobs,
                Broadcaster(poster, max_workers=fanout.POOL, queue=jobs, pacing=pacing),
                invocations,
            ),
            daemon=True,
        )
        for _ in range(consumers)
    ]
    for thread in threads:
        thread.start()
    sender = Caller(user_id=members[0], connection_id=None)
    saved = (channel_store.channel_with_members, connection_store.live_connections)
    # The ports forward to the adapters' functions when called: these answer instead.
    channel_store.channel_with_members = audience.channel_with_members
    connection_store.live_connections = audience.live_connections
    try:
        with request_units(botocore_client()) as units:
            began = time.perf_counter()
            messages.post_message(
                sender,
                channel_id,
                PostMessage(text="to everyone"),
                request,
                workspace_id=fanout.WORKSPACE,
            )
            acked = time.perf_counter()
            invocations.append(acked - began)
            deadline = acked + 120
            while len(poster.counts) < live and time.perf_counter() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)  # any repeat or late post lands now
    finally:
        channel_store.channel_with_members, connection_store.live_connections = saved
    jobs.close(consumers)
    for thread in threads:
        thread.join(timeout=30)
    lost = sum(1 for user in online if poster.counts[f"conn-{user}"] == 0)
    duplicated = sum(count - 1 for count in poster.counts.values() if count > 1)
    last_ms = (poster.last_end - began) * 1000
    target_ms = 1000 + 1.25 * live / max_posts_per_s * 1000
    read_units = units.read + audience.read_units
    peak = _peak_rate(poster.starts)
    return {
        "members": len(members),
        "liveConnections": live,
        "consumers": consumers,
        "postLatencyMs": POST_MS,
        "maxPostsPerS": max_posts_per_s,
        "senderAckMs": round((acked - began) * 1000),
        "lastDeliveryMs": round(last_ms),
        "targetLastDeliveryMs": round(target_ms),
        "maxInvocationMs": round(max(invocations) * 1000),
        "jobs": jobs.sent,
        "readUnits": round(read_units, 1),
        "targetReadUnits": round(0.6 * live + 20, 1),
        "lost": lost,
        "duplicated": duplicated,
        "postsPerS": round(peak),
        "pass": (
            last_ms <= target_ms
            and max(invocations) <= 10
            and read_units <= 0.6 * live + 20
            and lost == duplicated == 0
            and peak <= max_posts_per_s
        ),
    }


def run(
    live: tuple[int, ...] = (5000, 20_000),
    members: int = MEMBERS,
    consumers: int = CONSUMERS,
    max_posts_per_s: int = MAX_POSTS_PER_S,
    threshold: int = THRESHOLD,
) -> list[dict[str, Any]]:
    from parley import wiring
    from parley.config import settings

    rows = []
    with fanout.moto_tables(), fanout.every_post_counted():
        settings.cache_clear()
        wiring.configured.cache_clear()
        wiring.configured()
        # One channel for every row (the member list is the same); each row's users online.
        users = [f"L{i:05d}" for i in range(members)]
        fanout._channel(users, CHANNEL)
        member_list = MemberList.read(CHANNEL)
        for count in live:
            rows.append(
                _row(
                    count,
                    members=users,
                    member_list=member_list,
                    channel_id=CHANNEL,
                    consumers=consumers,
                    max_posts_per_s=max_posts_per_s,
                    threshold=threshold,
                )
            )
            fanout._connect(users[1 : count + 1], remove=True)
        settings.cache_clear()
        wiring.configured.cache_clear()
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"Large channel, queue path (moto in process; @connections stand-in {POST_MS:.0f} ms a "
        f"post; fan-out queue {QUEUE_MS:.0f} ms to a consumer)",
        "",
        "| members | live | consumers | max posts/s | sender ack ms | last delivery ms (target) "
        "| longest invocation ms | jobs | read units (target) | lost | duplicated "
        "| peak posts/s | pass |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['members']:,} | {r['liveConnections']:,} | {r['consumers']} "
            f"| {r['maxPostsPerS']:,} | {r['senderAckMs']:,} "
            f"| {r['lastDeliveryMs']:,} (≤ {r['targetLastDeliveryMs']:,}) "
            f"| {r['maxInvocationMs']:,} | {r['jobs']} "
            f"| {r['readUnits']:,} (≤ {r['targetReadUnits']:,}) | {r['lost']} "
            f"| {r['duplicated']} | {r['postsPerS']:,} | {r['pass']} |"
        )
    return "\n".join(lines)
