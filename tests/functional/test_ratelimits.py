"""Send rate limits: GCRA on one item per sender and channel, on a deterministic clock."""

from __future__ import annotations

import pytest

from tests.functional.conftest import ALICE, BOB, Api, RecordingPoster, post
from tests.functional.test_fanout_cost import counted_requests
from tests.functional.test_websocket import send

T0 = 1_800_000_000.0


def admit(now: float, user: str = ALICE, channel: str = "C1", burst: int = 50, rate: float = 10):
    from parley.adapters.dynamodb import ratelimits

    return ratelimits.admit(user, channel, burst=burst, per_second=rate, now=now)


def admitted(count: int, now: float, **limit: float) -> int:
    return sum(admit(now, **limit) for _ in range(count))  # type: ignore[arg-type]  # the limit's keywords are the admit() parameters


@pytest.fixture
def table(poster: RecordingPoster) -> None:
    from parley.wiring import configured

    configured()


def test_a_burst_of_fifty_passes_and_the_fifty_first_is_refused(table: None) -> None:
    assert admitted(50, T0) == 50
    assert not admit(T0)
    assert not admit(T0 + 0.05)  # half an interval later: still full


def test_the_bucket_refills_at_ten_a_second(table: None) -> None:
    assert admitted(60, T0) == 50
    assert admitted(5, T0 + 0.1) == 1  # one interval: one more message
    assert admitted(20, T0 + 1.1) == 10  # a second later: ten more, then full again
    assert admitted(60, T0 + 60) == 50  # idle for a minute: the whole burst again


def test_ten_a_second_forever_is_never_refused(table: None) -> None:
    assert all(admit(T0 + i / 10) for i in range(300))


def test_eleven_a_second_is_refused_once_the_burst_is_spent(table: None) -> None:
    # 11/s gains one message a second on the bucket: the burst of 50 lasts about 50 s.
    outcomes = [admit(T0 + i / 11) for i in range(11 * 60)]
    first_refusal = outcomes.index(False) / 11
    assert 45 < first_refusal < 55
    assert sum(outcomes) == pytest.approx(50 + 10 * 60, abs=2)


def test_limits_are_per_sender_and_per_channel(table: None) -> None:
    assert admitted(50, T0) == 50
    assert not admit(T0)
    assert admit(T0, user=BOB)
    assert admit(T0, channel="C2")


def test_a_person_typing_costs_one_write_a_flood_two(table: None) -> None:
    with counted_requests() as typing:
        for i in range(10):
            assert admit(T0 + i)  # one message a second
    assert typing == {"UpdateItem": 10}
    with counted_requests() as flood:
        for _ in range(60):
            admit(T0 + 100)
    # The first is idle (one write); 49 admitted and 10 refused tried both updates.
    assert flood == {"UpdateItem": 1 + 2 * 59}


def test_bots_get_about_one_message_a_second_with_a_short_burst(table: None) -> None:
    from parley.domain.caller import Caller
    from parley.domain.ratelimits import BOT, PERSON, limit_for

    assert limit_for(Caller(user_id="B1", app_id="A1")) == BOT
    assert limit_for(Caller(user_id=ALICE)) == PERSON
    limit = {"burst": BOT.burst, "rate": BOT.per_second}
    assert admitted(10, T0, **limit) == BOT.burst
    assert admitted(3, T0 + 1, **limit) == 1
    assert all(admit(T0 + 2 + i, **limit) for i in range(30))
    assert BOT.retry_after_s == 1


def check(now: float, user: str = ALICE, channel: str = "C1", app_id: str | None = None) -> bool:
    """The domain's check (the quiet tier, then the shared count): admitted or not."""
    from parley.domain import ratelimits
    from parley.domain.caller import Caller
    from parley.errors import RateLimited

    try:
        ratelimits.check_send(Caller(user_id=user, app_id=app_id), channel, now)
    except RateLimited:
        return False
    return True


def test_a_person_typing_writes_nothing(table: None) -> None:
    # Messages a second or more apart cannot break ten a second: no write, however many.
    with counted_requests() as typing:
        assert all(check(T0 + 1.5 * i) for i in range(20))
        assert all(check(T0 + i, user=BOB) for i in range(20))
    assert typing == {}


def test_a_burst_is_counted_from_its_first_message(table: None) -> None:
    # The first is let through unwritten; the second carries it into the shared count,
    # so the burst of fifty ends at fifty, as it does with every message written.
    outcomes = [check(T0) for _ in range(60)]
    assert outcomes == [True] * 50 + [False] * 10
    with counted_requests() as flood:
        check(T0 + 0.01)
    assert flood == {"UpdateItem": 2}  # refused: the idle write failed, then the busy one


def test_a_flood_is_held_to_the_rate_once_the_burst_is_spent(table: None) -> None:
    # Twenty a second for ten seconds: the burst of fifty, then ten a second, as with every
    # message written; none of the flood goes through the quiet tier past its first.
    outcomes = [check(T0 + i / 20) for i in range(200)]
    assert sum(outcomes) == pytest.approx(50 + 10 * 10, abs=2)
    with counted_requests() as flood:
        check(T0 + 10.01)
    assert sum(flood.values()) >= 1


def test_after_a_pause_the_next_message_is_quiet_again(table: None) -> None:
    assert sum(check(T0) for _ in range(60)) == 50
    with counted_requests() as later:
        assert check(T0 + 30)  # the shared count has drained; the tier writes nothing
    assert later == {}


def test_a_refused_pair_keeps_the_unwritten_message_counted_next_time(table: None) -> None:
    from parley.domain import ratelimits

    tight = ratelimits.SendLimit(burst=1, per_second=1)
    saved = ratelimits.PERSON
    ratelimits.PERSON = tight
    try:
        assert check(T0)  # quiet, unwritten
        assert not check(T0 + 0.2)  # it and this one are two: over a burst of one
        assert not check(T0 + 0.5)  # still two within the interval
        assert check(T0 + 2.0)  # quiet again
    finally:
        ratelimits.PERSON = saved


def test_bots_always_take_the_shared_count(table: None) -> None:
    from parley.domain.ratelimits import BOT

    with counted_requests() as bot:
        outcomes = [check(T0 + 2 * i, user="B1", app_id="A1") for i in range(5)]
    assert all(outcomes)
    assert bot == {"UpdateItem": 5}
    assert sum(check(T0 + 100, user="B1", app_id="A1") for _ in range(10)) == BOT.burst


def test_http_answers_429_with_retry_after(
    api: Api, workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.domain import ratelimits

    monkeypatch.setattr(ratelimits, "PERSON", ratelimits.SendLimit(burst=2, per_second=0.5))
    cid = workspace["general"]
    post(api, cid, "one")
    post(api, cid, "two")
    status, body = api("POST", f"/channels/{cid}/messages", body={"text": "three"})
    assert status == 429
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["retryAfter"] == 2
    _, history = api("GET", f"/channels/{cid}/messages")
    assert [m["text"] for m in history["messages"]] == ["two", "one"]  # nothing half-written


def test_the_retry_after_header_is_set(api: Api, workspace: dict[str, str], monkeypatch) -> None:
    from parley.domain import ratelimits
    from tests.functional.conftest import Context, load_function, sample_event

    monkeypatch.setattr(ratelimits, "PERSON", ratelimits.SendLimit(burst=1, per_second=0.25))
    cid = workspace["general"]
    post(api, cid, "one")
    event = sample_event("api-post-message.json")
    event["pathParameters"] = {"cid": cid}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/channels/{cid}/messages"
    event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = ALICE
    reply = load_function("api").lambda_handler(event, Context())
    assert reply["statusCode"] == 429
    assert reply["headers"]["Retry-After"] == "4"


def test_websocket_answers_an_error_frame_with_retry_after(
    workspace: dict[str, str], connect, poster: RecordingPoster, monkeypatch
) -> None:
    from parley.domain import ratelimits

    monkeypatch.setattr(ratelimits, "PERSON", ratelimits.SendLimit(burst=1, per_second=1))
    wid, cid = workspace["wid"], workspace["general"]
    connect("alice-1", ALICE, wid)
    connect("bob-1", BOB, wid)
    frame = {"action": "sendMessage", "id": "m1", "channelId": cid, "text": "hi"}
    assert send("alice-1", ALICE, wid, frame)["type"] == "ack"
    refused = send("alice-1", ALICE, wid, {**frame, "id": "m2", "text": "again"})
    assert refused["type"] == "error"
    assert refused["replyTo"] == "m2"
    assert refused["error"]["code"] == "rate_limited"
    assert refused["error"]["retryAfter"] == 1
    assert [e["message"]["text"] for e in poster.events("bob-1", "message")] == ["hi"]
