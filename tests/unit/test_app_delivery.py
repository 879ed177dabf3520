"""Events API delivery: events from stream images, signed POSTs, retries, pausing, the
URL challenge. Pure code with in-memory fakes for HTTP, the queue and the app's state."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from parley.apps import delivery
from parley.apps.delivery import Envelope, Outcome, Reply, Subscriber
from parley.apps.events import channel_events
from parley.apps.signing import RETRY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

SECRET = "f" * 64
URL = "https://echo.example.com/parley/events"
MESSAGE = {
    "PK": "CH#C1",
    "SK": "MSG#1764288000.000100",
    "workspaceId": "W1",
    "channelId": "C1",
    "ts": "1764288000.000100",
    "userId": "u1",
    "text": "hello",
    "version": 1,
}


# ---------------------------------------------------------------- events from the stream


def test_a_new_message_is_a_message_event() -> None:
    [event] = channel_events("INSERT", MESSAGE, None)
    assert event.event == {
        "type": "message",
        "channelId": "C1",
        "message": {"ts": "1764288000.000100", "userId": "u1", "text": "hello"},
    }
    assert (event.workspaceId, event.channelId) == ("W1", "C1")


def test_an_edit_and_reactions_become_their_events() -> None:
    new = {
        **MESSAGE,
        "text": "hello!",
        "version": 3,
        "reactions": [{"name": "tada", "users": ["u2"]}],
    }
    old = {**MESSAGE, "version": 2, "reactions": [{"name": "eyes", "users": ["u3"]}]}
    kinds = [(e.event["type"], e.event.get("name")) for e in channel_events("MODIFY", new, old)]
    assert kinds == [
        ("message_changed", None),
        ("reaction_added", "tada"),
        ("reaction_removed", "eyes"),
    ]


def test_a_delete_a_join_and_a_new_channel() -> None:
    [deleted] = channel_events("REMOVE", None, MESSAGE)
    assert deleted.event == {"type": "message_deleted", "channelId": "C1", "ts": MESSAGE["ts"]}
    member = {
        "PK": "CH#C1",
        "SK": "MEMBER#u2",
        "workspaceId": "W1",
        "channelId": "C1",
        "userId": "u2",
        "joinedAt": "2025-11-28T00:00:00.000Z",
    }
    [joined] = channel_events("INSERT", member, None)
    assert joined.event == {"type": "member_joined_channel", "channelId": "C1", "userId": "u2"}
    meta = {
        "PK": "CH#C1",
        "SK": "META",
        "workspaceId": "W1",
        "channelId": "C1",
        "name": "deploys",
        "type": "public",
    }
    [created] = channel_events("INSERT", meta, None)
    assert created.event["channel"] == {"id": "C1", "name": "deploys", "type": "public"}
    assert created.channelType == "public"


def test_other_items_and_quiet_changes_make_no_events() -> None:
    assert channel_events("INSERT", {"PK": "USER#u1", "SK": "PROFILE"}, None) == []
    assert channel_events("MODIFY", {**MESSAGE, "replyCount": 1}, MESSAGE) == []
    read = {"PK": "CH#C1", "SK": "MEMBER#u2", "lastReadTs": "1"}
    assert channel_events("MODIFY", read, {**read, "lastReadTs": "0"}) == []


def test_a_redelivered_record_yields_the_same_event_ids() -> None:
    first = [e.eventId for e in channel_events("INSERT", MESSAGE, None)]
    assert first == [e.eventId for e in channel_events("INSERT", MESSAGE, None)]
    other = {**MESSAGE, "ts": "1764288000.000200", "SK": "MSG#1764288000.000200"}
    assert first != [e.eventId for e in channel_events("INSERT", other, None)]


# ---------------------------------------------------------------- delivery


class FakeReceiver:
    """The app's endpoint: answers from a script, records every request."""

    def __init__(self, *statuses: int, echo_challenge: bool = True) -> None:
        self.statuses = list(statuses)
        self.echo_challenge = echo_challenge
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Reply:
        assert timeout <= 3.0
        self.requests.append((url, body, dict(headers)))
        payload = json.loads(body)
        if payload.get("type") == "url_verification":
            answer = payload["challenge"] if self.echo_challenge else "nope"
            return Reply(200, json.dumps({"challenge": answer}).encode())
        return Reply(self.statuses.pop(0) if self.statuses else 200)

    def events(self) -> list[tuple[bytes, dict[str, str]]]:
        return [(b, h) for _, b, h in self.requests if b"event_callback" in b]


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[Envelope, int]] = []

    def send_delayed(self, body: str, delay_seconds: int) -> None:
        self.sent.append((Envelope.model_validate_json(body), delay_seconds))


class FakeState:
    def __init__(self) -> None:
        self.verified: list[str] = []
        self.lost_count = 0
        self.paused: str | None = None

    def url_verified(self, app_id: str, url: str) -> None:
        self.verified.append(url)

    def delivered(self, app_id: str) -> None:
        self.lost_count = 0

    def lost(self, app_id: str) -> int:
        self.lost_count += 1
        return self.lost_count

    def pause(self, app_id: str, reason: str) -> None:
        self.paused = reason


def subscriber(verified: str | None = URL, paused: bool = False) -> Subscriber:
    return Subscriber("A1", URL, SECRET, verified, paused)


def envelope(retry: int = 0) -> Envelope:
    event = channel_events("INSERT", MESSAGE, None)[0]
    return Envelope(
        appId="A1",
        eventId=event.eventId,
        eventTime=1764288000,
        workspaceId="W1",
        event=event.event,
        retryNum=retry,
    )


def test_a_delivery_is_signed_so_the_app_can_verify_it() -> None:
    receiver, state = FakeReceiver(200), FakeState()
    assert (
        delivery.deliver(envelope(), subscriber(), receiver, FakeQueue(), state)
        is Outcome.DELIVERED
    )
    [(body, headers)] = receiver.events()
    verify(SECRET, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], body)
    assert RETRY_HEADER not in headers
    sent = json.loads(body)
    assert sent["type"] == "event_callback"
    assert sent["event"]["message"]["text"] == "hello"
    assert "retryNum" not in sent


def test_failures_are_retried_immediately_then_after_1_and_5_minutes() -> None:
    receiver, queue, state = FakeReceiver(500, 500, 500, 500), FakeQueue(), FakeState()
    current = envelope()
    delays = []
    for _ in range(3):
        assert (
            delivery.deliver(current, subscriber(), receiver, queue, state)
            is Outcome.RETRY_SCHEDULED
        )
        current, delay = queue.sent[-1]
        delays.append(delay)
    assert delays == [0, 60, 300]
    assert delivery.deliver(current, subscriber(), receiver, queue, state) is Outcome.LOST
    assert [h.get(RETRY_HEADER) for _, h in receiver.events()] == [None, "1", "2", "3"]
    assert state.lost_count == 1


def test_a_subscription_that_keeps_failing_is_paused_and_success_resets_the_count() -> None:
    state = FakeState()
    for _ in range(delivery.PAUSE_AFTER - 1):
        delivery.deliver(envelope(3), subscriber(), FakeReceiver(503), FakeQueue(), state)
    delivery.deliver(envelope(), subscriber(), FakeReceiver(200), FakeQueue(), state)
    assert state.lost_count == 0
    outcomes = [
        delivery.deliver(envelope(3), subscriber(), FakeReceiver(0), FakeQueue(), state)
        for _ in range(delivery.PAUSE_AFTER)
    ]
    assert outcomes[-1] is Outcome.PAUSED
    assert set(outcomes[:-1]) == {Outcome.LOST}
    assert state.paused is not None
    receiver = FakeReceiver(200)
    assert (
        delivery.deliver(envelope(), subscriber(paused=True), receiver, FakeQueue(), state)
        is Outcome.SKIPPED
    )
    assert receiver.requests == []


def test_a_new_url_is_verified_by_the_challenge_before_any_event() -> None:
    receiver, state = FakeReceiver(200), FakeState()
    assert (
        delivery.deliver(envelope(), subscriber(verified=None), receiver, FakeQueue(), state)
        is Outcome.DELIVERED
    )
    assert json.loads(receiver.requests[0][1])["type"] == "url_verification"
    assert state.verified == [URL]


def test_a_url_that_fails_the_challenge_gets_no_event_and_counts_as_a_failure() -> None:
    receiver, queue, state = FakeReceiver(echo_challenge=False), FakeQueue(), FakeState()
    outcome = delivery.deliver(envelope(), subscriber(verified=None), receiver, queue, state)
    assert outcome is Outcome.RETRY_SCHEDULED
    assert receiver.events() == []
    assert state.verified == []


@pytest.mark.parametrize("app", [None, Subscriber("A1", None, SECRET, None, False)])
def test_no_app_or_no_url_skips(app: Any) -> None:
    receiver = FakeReceiver()
    assert delivery.deliver(envelope(), app, receiver, FakeQueue(), FakeState()) is Outcome.SKIPPED
    assert receiver.requests == []
