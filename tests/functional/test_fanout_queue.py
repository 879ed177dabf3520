"""Large audiences (parley.adapters.fanout): past the threshold the request posts a first
slice, queues the rest as jobs for functions/fanout and returns; every poster is paced at
its share of MaxPostsPerSecond; a job's 410s are pruned and its other failures go back on
the queue for those connections only; every event carries one `eventId`."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from tests.functional.conftest import Context, RecordingPoster, load_function
from tests.functional.test_fanout_cost import WORKSPACE, counted_requests, seed


class FakeQueue:
    """The fan-out queue as a list; keys in `refuse` are refused."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.refuse_all = False

    def send(self, bodies: list[tuple[str, str]]) -> set[str]:
        if self.refuse_all:
            return {key for key, _ in bodies}
        self.bodies.extend(body for _, body in bodies)
        return set()

    def drain(self, broadcaster: Any) -> int:
        """Runs every queued job (and those they queue) as functions/fanout would."""
        from parley.adapters.fanout import Job

        ran = 0
        while self.bodies:
            broadcaster.run_job(Job.parse(self.bodies.pop(0)))
            ran += 1
        return ran


class Clock:
    """A clock that only sleeps move."""

    def __init__(self) -> None:
        self.now = 0.0
        self.starts: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class TimedPoster(RecordingPoster):
    """Records when (on `clock`) each post starts; ids in `flaky` fail once (a 500 after
    the client's retries), then deliver."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.flaky: set[str] = set()

    def post(self, connection_id: str, data: bytes) -> bool:
        self.clock.starts.append(self.clock.now)
        if connection_id in self.flaky:
            self.flaky.discard(connection_id)
            raise RuntimeError("500 InternalServerError")
        return super().post(connection_id, data)


def make(
    poster: RecordingPoster,
    queue: Any,
    clock: Clock | None = None,
    threshold: int = 100,
    rate: float = 1100,
    concurrency: int = 10,
) -> Any:
    from parley.adapters.fanout import Broadcaster, Pacing

    clock = clock or Clock()
    return Broadcaster(
        poster,
        max_workers=1,  # posts in order, so the clock's record is the pacing's
        queue=queue,
        pacing=Pacing(threshold, rate, concurrency),
        clock=clock,
        sleep=clock.sleep,
    )


def targets(count: int, prefix: str = "c") -> dict[str, str]:
    return {f"{prefix}{i}": f"u{i}" for i in range(count)}


# ------------------------------------------------------------------ slicing


def test_jobs_hold_at_most_500_connections_and_five_seconds_of_a_consumers_rate() -> None:
    from parley.adapters.fanout import Pacing, plan_jobs

    event = {"type": "message", "eventId": "e1"}
    many = list(targets(20_000).items())
    fast = plan_jobs(WORKSPACE, event, many, Pacing(1000, 5000, 10))  # 454/s: 2,272 in 5 s
    assert [len(job.targets) for job in fast] == [500] * 40
    slow = plan_jobs(WORKSPACE, event, many, Pacing(1000, 220, 10))  # 20/s: 100 in 5 s
    assert {len(job.targets) for job in slow} == {100}
    assert len(slow) == 200
    joined = [conn for job in fast for conn in job.targets]
    assert joined == [conn for conn, _ in many]  # each once, in order


def test_every_consumer_gets_a_job() -> None:
    from parley.adapters.fanout import Pacing, plan_jobs

    jobs = plan_jobs(WORKSPACE, {"type": "x"}, list(targets(4887).items()), Pacing(1000, 5000, 10))
    assert len(jobs) == 10
    assert [len(job.targets) for job in jobs] == [489] * 9 + [4887 - 9 * 489]
    assert len(plan_jobs(WORKSPACE, {"type": "x"}, [("a", "u")], Pacing())) == 1


def test_a_job_stays_within_240_kb() -> None:
    from parley.adapters.fanout import JOB_BYTES, Pacing, plan_jobs

    event = {"type": "message", "message": {"text": "é" * 60_000}}  # 120 KB of UTF-8
    long_ids = {f"{'c' * 200}{i}": f"{'u' * 200}{i}" for i in range(2000)}
    jobs = plan_jobs(WORKSPACE, event, list(long_ids.items()), Pacing(1000, 5000, 2))
    assert all(len(job.body().encode()) <= JOB_BYTES for job in jobs)
    assert sum(len(job.targets) for job in jobs) == 2000
    assert max(len(job.targets) for job in jobs) < 500  # bytes bound them first


def test_the_pacer_spaces_starts_at_its_rate() -> None:
    from parley.adapters.fanout import Pacer

    clock = Clock()
    pacer = Pacer(200, clock, clock.sleep)
    for _ in range(201):
        clock.starts.append(clock.now)
        pacer.wait()
    assert clock.now == pytest.approx(1.0)  # the 201st start is 200 intervals of 5 ms on


def test_a_late_pacer_does_not_catch_up_with_a_burst() -> None:
    from parley.adapters.fanout import Pacer

    clock = Clock()
    pacer = Pacer(100, clock, clock.sleep)  # 10 ms apart
    for _ in range(5):
        pacer.wait()
    clock.now += 1.0  # every worker was busy for a second: 100 starts behind
    starts = []
    for _ in range(20):
        pacer.wait()
        starts.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) == pytest.approx(0.01)  # spaced from the late start on, no burst


def test_starts_from_many_threads_are_spaced_at_the_rate() -> None:
    from parley.adapters.fanout import Pacer

    pacer = Pacer(500)  # 2 ms apart, on the real clock
    starts: list[float] = []
    lock = threading.Lock()

    def start() -> None:
        pacer.wait()
        with lock:
            starts.append(time.monotonic())

    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(200):
            pool.submit(start)
    starts.sort()
    assert starts[-1] - starts[0] >= 199 * 0.002 * 0.95
    window = [b - a for a, b in zip(starts, starts[10:], strict=False)]
    assert min(window) >= 10 * 0.002 * 0.9  # no ten starts closer than ten intervals


# ------------------------------------------------------------------ the request's part


def test_up_to_the_threshold_everything_is_posted_in_the_request(poster: RecordingPoster) -> None:
    queue = FakeQueue()
    delivery = make(poster, queue, threshold=100).to_connections(
        WORKSPACE, targets(100), {"type": "message"}
    )
    assert (delivery.delivered, delivery.queued, queue.bodies) == (100, 0, [])


def test_past_the_threshold_the_request_posts_a_paced_first_slice_and_queues_the_rest(
    poster: RecordingPoster,
) -> None:
    clock = Clock()
    timed = TimedPoster(clock)
    queue = FakeQueue()
    fanout = make(timed, queue, clock, threshold=100, rate=1100, concurrency=10)  # 100/s each
    audience = targets(1000)
    delivery = fanout.to_connections(WORKSPACE, audience, {"type": "message", "text": "hi"})
    # A quarter second of the request's 100 posts a second, in the request; the rest queued.
    assert (delivery.delivered, delivery.queued) == (25, 975)
    assert delivery.reached == set(audience.values())
    assert clock.now == pytest.approx(0.24)  # 25 starts 10 ms apart
    assert len(queue.bodies) == 10  # one job per consumer at least
    from parley.adapters.fanout import Job

    for body in list(queue.bodies):
        job, began = Job.parse(body), clock.now
        fanout.run_job(job)
        # Each consumer 100/s: a job of n connections starts its last post (n-1) x 10 ms on.
        assert clock.now - began == pytest.approx((len(job.targets) - 1) / 100)
    frames = {conn: timed.frames[conn] for conn in audience}
    assert all(len(got) == 1 for got in frames.values())  # each exactly once
    ids = {timed.event_ids[conn][0] for conn in audience}
    assert len(ids) == 1  # the same id for every recipient
    assert all(got[0]["text"] == "hi" for got in frames.values())


def test_what_the_queue_refuses_is_posted_in_the_request(poster: RecordingPoster) -> None:
    queue = FakeQueue()
    queue.refuse_all = True
    delivery = make(poster, queue, threshold=10).to_connections(
        WORKSPACE, targets(300), {"type": "message"}
    )
    assert (delivery.delivered, delivery.queued) == (300, 0)
    assert all(len(poster.frames[conn]) == 1 for conn in targets(300))


def test_events_get_a_fresh_id_each_and_keep_one_they_carry(poster: RecordingPoster) -> None:
    fanout = make(poster, None)
    fanout.to_connections(WORKSPACE, {"a": "u"}, {"type": "x"})
    fanout.to_connections(WORKSPACE, {"a": "u"}, {"type": "x"})
    fanout.to_connections(WORKSPACE, {"a": "u"}, {"type": "x", "eventId": "mine"})
    first, second, third = poster.event_ids["a"]
    assert first != second
    assert third == "mine"


# ------------------------------------------------------------------ the consumer's part


def test_a_job_that_fails_half_way_is_retried_for_those_connections_only(
    poster: RecordingPoster,
) -> None:
    """Half of a job's posts fail (5xx after the client's retries): a new job carries
    exactly those; running it delivers them; nobody gets the event twice."""
    from parley.adapters.fanout import Job

    clock = Clock()
    timed = TimedPoster(clock)
    audience = targets(400)
    timed.flaky = {conn for i, conn in enumerate(audience) if i >= 200}
    queue = FakeQueue()
    fanout = make(timed, queue, clock)
    delivery = fanout.run_job(Job(WORKSPACE, {"type": "message", "eventId": "e9"}, audience))
    assert (delivery.delivered, delivery.failed, delivery.queued) == (200, 200, 200)
    retries = [Job.parse(body) for body in queue.bodies]  # spread over the consumers
    assert {job.attempt for job in retries} == {2}
    requeued = [conn for job in retries for conn in job.targets]
    assert sorted(requeued) == sorted(list(audience)[200:])
    queue.drain(fanout)
    assert Counter(len(timed.frames[conn]) for conn in audience) == {1: 400}


def test_a_job_gives_up_on_a_connection_after_three_attempts(poster: RecordingPoster) -> None:
    from parley.adapters.fanout import Job

    tried: Counter[str] = Counter()

    class Broken(RecordingPoster):
        def post(self, connection_id: str, data: bytes) -> bool:
            tried[connection_id] += 1
            raise RuntimeError("503")

    queue = FakeQueue()
    fanout = make(Broken(), queue)
    fanout.run_job(Job(WORKSPACE, {"type": "x", "eventId": "e"}, {"a": "u", "b": "v"}))
    queue.drain(fanout)  # attempts 2 and 3, then dropped
    assert tried == {"a": 3, "b": 3}
    assert queue.bodies == []


def test_a_jobs_gone_connections_are_pruned_with_the_online_index(
    poster: RecordingPoster,
) -> None:
    from parley.adapters.dynamodb import connections
    from parley.adapters.fanout import Job

    seed(30, outside_connections=0)
    poster.gone.add("conn-u7")
    fanout = make(poster, FakeQueue())
    job = Job(WORKSPACE, {"type": "x", "eventId": "e"}, {f"conn-u{i}": f"u{i}" for i in range(30)})
    delivery = fanout.run_job(job)
    assert (delivery.delivered, delivery.pruned) == (29, ["conn-u7"])
    online = connections.online_connections(WORKSPACE)
    assert "conn-u7" not in online
    assert len(online) == 29
    assert connections.get_connection("conn-u7") is None


def test_the_function_reports_a_job_whose_retry_cannot_be_queued(
    poster: RecordingPoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """functions/fanout: the job is a batch item failure, so SQS gives it again (and after
    three receives moves it to the DLQ); a job that is not one is dropped."""
    from parley import wiring
    from parley.adapters.fanout import Job

    class Failing(RecordingPoster):
        def post(self, connection_id: str, data: bytes) -> bool:
            if connection_id == "bad":
                raise RuntimeError("500")
            return super().post(connection_id, data)

    queue = FakeQueue()
    queue.refuse_all = True
    failing = Failing()
    monkeypatch.setattr(wiring, "broadcaster", lambda: make(failing, queue))
    handler = load_function("fanout").lambda_handler
    good = Job(WORKSPACE, {"type": "x", "eventId": "e"}, {"ok": "u1"}).body()
    bad = Job(WORKSPACE, {"type": "x", "eventId": "e"}, {"ok2": "u1", "bad": "u2"}).body()
    records = [
        {"messageId": "m1", "body": good},
        {"messageId": "m2", "body": bad},
        {"messageId": "m3", "body": "{not json"},
    ]
    reply = handler({"Records": records}, Context())
    assert reply == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert set(failing.frames) == {"ok", "ok2"}


def test_the_sample_event_is_a_job_the_function_runs(
    poster: RecordingPoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley import wiring
    from tests.functional.conftest import sample_event

    monkeypatch.setattr(wiring, "broadcaster", lambda: make(poster, FakeQueue()))
    reply = load_function("fanout").lambda_handler(sample_event("fanout.json"), Context())
    assert reply == {"batchItemFailures": []}
    assert sum(len(frames) for frames in poster.frames.values()) >= 1


# ------------------------------------------------------------------ through the domain


def test_a_large_channels_message_reads_the_index_and_queues_on_sqs(
    poster: RecordingPoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A channel of 1,200 members (150 online, 100 outsiders online): the audience is read
    from the online index, not the member list; past a threshold of 100 the rest goes to
    the (moto) queue as jobs; running them reaches every online member once, nobody else."""
    from parley.adapters.dynamodb import channels
    from parley.adapters.dynamodb.items import ChannelMemberItem
    from parley.adapters.sqs import SqsQueue

    seed(150, outside_connections=100)
    with ChannelMemberItem.batch_write() as batch:
        for i in range(1050):
            member = channels.new_member(
                "CFANOUT0001", WORKSPACE, f"off{i}", "2026-01-01T00:00:00Z"
            )
            batch.save(member)
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="parley-unit-fanout")["QueueUrl"]  # its own
    fanout = make(poster, SqsQueue(queue_url, "us-east-1", sqs), threshold=100)
    with counted_requests() as counts:
        members = channels.member_ids("CFANOUT0001")
        before = dict(counts)
        delivery = fanout.to_users(WORKSPACE, members, {"type": "message", "text": "all"})
    assert len(members) == 1200
    reads = Counter(counts)
    reads.subtract(before)
    assert +reads == Counter({"Query": 1})  # the index; no BatchGetItem of 1,200 members
    assert delivery.delivered + delivery.queued == 150
    assert delivery.queued > 0
    from parley.adapters.fanout import Job

    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        if not got.get("Messages"):
            break
        for message in got["Messages"]:
            fanout.run_job(Job.parse(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    reached = {conn for conn, frames in poster.frames.items() if frames}
    assert reached == {f"conn-u{i}" for i in range(150)}
    assert all(len(poster.frames[conn]) == 1 for conn in reached)
    assert len({poster.event_ids[conn][0] for conn in reached}) == 1


def test_a_workspace_wide_event_to_many_takes_the_queue_from_the_online_index(
    poster: RecordingPoster,
) -> None:
    """to_workspace (a public channel created or changed): who is online comes from the
    index, never the members; past the threshold the rest is queued like a channel's."""
    seed(0, outside_connections=150)
    queue = FakeQueue()
    fanout = make(poster, queue, threshold=100)
    with counted_requests() as counts:
        delivery = fanout.to_workspace(WORKSPACE, {"type": "channel_created"})
    assert dict(counts) == {"Query": 1}
    assert delivery.queued > 0
    assert delivery.delivered + delivery.queued == 150
    queue.drain(fanout)
    assert Counter(len(frames) for frames in poster.frames.values()) == {1: 150}
