"""Fan-out: deliver one event to every live connection of an audience.

Cost per event: the audience's connections (`connection_store.live_connections`: the member
list for a small audience, the online index for a large one) and one POST per live
connection. Nothing here grows with connections outside the audience. Delivery is best
effort: the table is the truth, and a client that reconnects catches up from history.

Two paths, chosen in `Broadcaster.to_connections` by the audience's live connections:

- up to `threshold` (template parameter FanoutThreshold), every post is made in the
  request, concurrently, as fast as the pool goes;
- past it, the request queues the rest as jobs on the fan-out queue (`plan_jobs`: at most
  500 connections, about 5 s of posting and 240 KB each, at least one job per consumer),
  posts a first slice itself (a quarter second of its share of the rate) and returns:
  functions/fanout consumes the jobs, `concurrency` at a time (FanoutConcurrency).

Every poster, the request and each consumer, is paced at `max_posts_per_s / (concurrency
+ 1)`, so together they stay under MaxPostsPerSecond (API Gateway's account quota is shared
by every API and every @connections call). Every event carries an `eventId`, the same for
all its recipients, so a client drops a repeat (a redelivered job posts again).
"""

from __future__ import annotations

import functools
import json
import math
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from parley.adapters.dynamodb import channels as channel_store
from parley.adapters.dynamodb import connections as connection_store
from parley.domain.ports import Delivery
from parley.observability import MetricUnit, logger, metrics

FANOUT_THRESHOLD = 1000  # live connections posted in the request; past it, the queue
MAX_POSTS_PER_S = 5000  # all posters together
FANOUT_CONCURRENCY = 10  # consumers of the fan-out queue
FIRST_SLICE_S = 0.25  # what the request posts itself of a large audience, in its time
JOB_CONNECTIONS = 500
JOB_SECONDS = 5.0
JOB_BYTES = 240 * 1024  # SQS takes 256 KiB a message
JOB_ATTEMPTS = 3  # a job's connections that failed transiently go again, this many in all
JOB_VERSION = 1


class Queue(Protocol):
    """The fan-out queue (`parley.adapters.sqs_json.SqsJsonQueue`): sends (key, body)
    pairs, returns the keys it could not send."""

    def send(self, bodies: Sequence[tuple[str, str]]) -> set[str]: ...


class Poster(Protocol):
    def post(self, connection_id: str, data: bytes) -> bool: ...


@dataclass(frozen=True)
class Pacing:
    """How fast and how wide the fan-out posts (the template's parameters)."""

    threshold: int = FANOUT_THRESHOLD
    max_posts_per_s: float = MAX_POSTS_PER_S
    concurrency: int = FANOUT_CONCURRENCY

    @property
    def share(self) -> float:
        """Posts a second of one poster: the request or one consumer."""
        return self.max_posts_per_s / (self.concurrency + 1)

    @property
    def first_slice(self) -> int:
        """Connections the request posts itself before it returns."""
        return max(1, int(self.share * FIRST_SLICE_S))


class Pacer:
    """Spaces post starts at `rate` a second, from any thread: the i-th start waits until
    t0 + i / rate. A start that comes late (every worker busy, a pause) moves the schedule
    on from itself, so the lost time is never made up with a burst: starts are always at
    least 1 / rate apart. Sleeps only when at least 2 ms ahead; waits one at a time."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1 / rate
        self._clock = clock
        self._sleep = sleep
        self._start: float | None = None
        self._count = 0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:  # held while sleeping: the next start is due after this one
            now = self._clock()
            if self._start is None:
                self._start = now
            due = self._start + self._count * self._interval
            if due < now:  # late: the schedule goes on from now
                self._start, due = now - self._count * self._interval, now
            self._count += 1
            if due - now >= 0.002:
                self._sleep(due - now)


@dataclass
class Job:
    """A slice of one event's audience, for functions/fanout."""

    workspace_id: str
    event: dict[str, Any]
    targets: dict[str, str]  # connection id -> user id
    attempt: int = 1

    def body(self) -> str:
        return json.dumps(
            {
                "v": JOB_VERSION,
                "workspaceId": self.workspace_id,
                "attempt": self.attempt,
                "event": self.event,
                "targets": [[conn, user] for conn, user in self.targets.items()],
            },
            separators=(",", ":"),
            ensure_ascii=False,  # SQS counts UTF-8 bytes; escapes would take up to 6
        )

    @classmethod
    def parse(cls, body: str) -> Job:
        """Raises ValueError (or KeyError, TypeError) for a body that is not a job."""
        document = json.loads(body)
        if not isinstance(document, dict) or document.get("v") != JOB_VERSION:
            raise ValueError("not a fan-out job")
        targets = {str(conn): str(user) for conn, user in document["targets"]}
        event = document["event"]
        if not isinstance(event, dict):
            raise ValueError("a fan-out job's event is an object")
        return cls(str(document["workspaceId"]), event, targets, int(document["attempt"]))


def plan_jobs(
    workspace_id: str,
    event: dict[str, Any],
    targets: Sequence[tuple[str, str]],
    pacing: Pacing,
    attempt: int = 1,
) -> list[Job]:
    """`targets` in jobs of at most 500 connections, about 5 s of one consumer's posting and
    240 KB, and small enough that every consumer gets one."""
    if not targets:
        return []
    size = min(JOB_CONNECTIONS, max(1, int(pacing.share * JOB_SECONDS)))
    size = max(1, min(size, math.ceil(len(targets) / max(1, pacing.concurrency))))
    base = len(Job(workspace_id, event, {}, attempt).body().encode())
    jobs: list[Job] = []
    current: dict[str, str] = {}
    used = base
    for conn, user in targets:
        entry = len(json.dumps([conn, user], ensure_ascii=False).encode()) + 1
        if current and (len(current) >= size or used + entry > JOB_BYTES):
            jobs.append(Job(workspace_id, event, current, attempt))
            current, used = {}, base
        current[conn] = user
        used += entry
    jobs.append(Job(workspace_id, event, current, attempt))
    return jobs


def with_event_id(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its `eventId`: kept if it has one, else a new unique one."""
    if isinstance(event.get("eventId"), str):
        return event
    return {**event, "eventId": uuid.uuid4().hex}


class Broadcaster:
    """Sends events to users' live connections in one workspace and prunes the dead ones.

    Without a `queue` every audience is posted in the request (the threshold is not
    applied); `pacing` says how large the request's part may be and how fast each poster
    goes. `clock` and `sleep` pace the posts (tests drive them)."""

    def __init__(
        self,
        poster: Poster,
        max_workers: int = 32,
        *,
        queue: Queue | None = None,
        pacing: Pacing | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._poster = poster
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="fanout")
        self._queue = queue
        self.pacing = pacing or Pacing()
        self._clock = clock
        self._sleep = sleep

    def to_channel(
        self, workspace_id: str, channel_id: str, event: dict[str, Any], exclude: str | None = None
    ) -> Delivery:
        return self.to_users(workspace_id, channel_store.member_ids(channel_id), event, exclude)

    def to_channel_each(
        self, workspace_id: str, channel_id: str, events: list[dict[str, Any]]
    ) -> None:
        """Several events to one channel: its members and their connections are looked up
        once for all of them (a bulk add announces each new member this way)."""
        if not events:
            return
        members = channel_store.member_ids(channel_id)
        targets = connection_store.live_connections(workspace_id, members)
        for event in events:
            self.to_connections(workspace_id, targets, event)

    def to_workspace(self, workspace_id: str, event: dict[str, Any]) -> Delivery:
        """Everyone online in the workspace, from its online index (no member is read)."""
        return self.to_connections(
            workspace_id, connection_store.online_connections(workspace_id), event
        )

    def to_users(
        self,
        workspace_id: str,
        user_ids: list[str],
        event: dict[str, Any],
        exclude: str | None = None,
    ) -> Delivery:
        targets = connection_store.live_connections(workspace_id, user_ids)
        targets.pop(exclude or "", None)
        return self.to_connections(workspace_id, targets, event)

    def to_connections(
        self, workspace_id: str, targets: dict[str, str], event: dict[str, Any]
    ) -> Delivery:
        """`targets` maps connection id to user id. Up to the threshold (or without a
        queue) every target is posted here, concurrently; past it the rest go to the
        fan-out queue first, then the first slice is posted here, paced (module docstring)."""
        delivery = Delivery()
        if not targets:
            return delivery
        event = with_event_id(event)
        data = encode(event)
        if self._queue is None or len(targets) <= self.pacing.threshold:
            self._post_all(workspace_id, targets, data, delivery, pacer=None)
        else:
            items = list(targets.items())
            first, rest = items[: self.pacing.first_slice], items[self.pacing.first_slice :]
            unsent = self.enqueue(plan_jobs(workspace_id, event, rest, self.pacing))
            queued = [(conn, user) for conn, user in rest if conn not in unsent]
            delivery.queued = len(queued)
            delivery.reached.update(user for _, user in queued)
            # What the queue refused is posted here, after the first slice.
            mine = dict(first) | {conn: targets[conn] for conn in unsent}
            self._post_all(workspace_id, mine, data, delivery, pacer=self._pacer())
        self._record(delivery)
        return delivery

    def enqueue(self, jobs: list[Job]) -> set[str]:
        """Sends the jobs; returns the connections of the jobs the queue refused."""
        if not jobs:
            return set()
        assert self._queue is not None
        bodies = [(str(position), job.body()) for position, job in enumerate(jobs)]
        try:
            refused = self._queue.send(bodies)
        except Exception:
            logger.exception("fan-out jobs not queued", extra={"jobs": len(jobs)})
            refused = {key for key, _ in bodies}
        metrics.add_metric("FanoutJobsQueued", MetricUnit.Count, len(jobs) - len(refused))
        return {conn for key in refused for conn in jobs[int(key)].targets}

    def run_job(self, job: Job) -> Delivery:
        """A consumer's part (functions/fanout): posts the job's connections paced, prunes
        the gone ones, and queues those that failed otherwise again as a new job, up to
        `JOB_ATTEMPTS` attempts in all. Raises when that new job cannot be queued, so the
        job itself is received again."""
        delivery = Delivery()
        data = encode(job.event)
        failed = self._post_all(job.workspace_id, job.targets, data, delivery, self._pacer())
        if failed and job.attempt < JOB_ATTEMPTS:
            retry = plan_jobs(
                job.workspace_id,
                job.event,
                [(conn, job.targets[conn]) for conn in failed],
                self.pacing,
                attempt=job.attempt + 1,
            )
            if self._queue is None or self.enqueue(retry):
                raise RuntimeError(f"{len(failed)} failed posts not queued again")
            delivery.queued = len(failed)
        elif failed:
            metrics.add_metric("FanoutPostsDropped", MetricUnit.Count, len(failed))
            logger.warning("fan-out posts failed on every attempt", extra={"count": len(failed)})
        self._record(delivery)
        return delivery

    def _pacer(self) -> Pacer:
        return Pacer(self.pacing.share, self._clock, self._sleep)

    def _post_all(
        self,
        workspace_id: str,
        targets: dict[str, str],
        data: bytes,
        delivery: Delivery,
        pacer: Pacer | None,
    ) -> list[str]:
        """Posts to every target, each start paced by `pacer` if any; counts into
        `delivery`, prunes the gone; returns the connections that failed otherwise."""
        # Paced in the workers, just before each post: a start is a post's start, even
        # when the pool has fallen behind (a submitter's pace would let its backlog burst).
        post = self._post if pacer is None else functools.partial(self._paced_post, pacer)
        futures = [(conn, self._pool.submit(post, conn, data)) for conn in targets]
        failed: list[str] = []
        for conn, future in futures:
            outcome = future.result()
            if outcome is True:
                delivery.delivered += 1
                delivery.reached.add(targets[conn])
            elif outcome is False:
                delivery.pruned.append(conn)
                connection_store.forget(conn, targets[conn], workspace_id)
            else:
                delivery.failed += 1
                failed.append(conn)
        return failed

    @staticmethod
    def _record(delivery: Delivery) -> None:
        metrics.add_metric("EventsDelivered", MetricUnit.Count, delivery.delivered)
        if delivery.queued:
            metrics.add_metric("ConnectionsQueued", MetricUnit.Count, delivery.queued)
        if delivery.pruned:
            metrics.add_metric("ConnectionsPruned", MetricUnit.Count, len(delivery.pruned))
            logger.info("pruned gone connections", extra={"count": len(delivery.pruned)})
        if delivery.failed:
            # Neither delivered nor gone after the poster's retries (403, 413, throttled):
            # the alarm on it says real-time delivery is failing.
            metrics.add_metric("ConnectionPostsFailed", MetricUnit.Count, delivery.failed)

    def _paced_post(self, pacer: Pacer, connection_id: str, data: bytes) -> bool | None:
        pacer.wait()
        return self._post(connection_id, data)

    def _post(self, connection_id: str, data: bytes) -> bool | None:
        """True delivered, False gone, None failed otherwise (logged; best effort)."""
        try:
            return self._poster.post(connection_id, data)
        except Exception:
            logger.exception("post to connection failed", extra={"connectionId": connection_id})
            return None


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()
