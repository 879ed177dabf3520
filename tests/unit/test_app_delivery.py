"""Events API delivery: events from stream images, Slack's envelope signed as Slack signs,
retries with Slack's retry headers, pausing, the URL challenge. Pure code with in-memory
fakes for HTTP, the queue and the app's state."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier

from parley.apps import delivery
from parley.apps.changes import channel_events
from parley.apps.delivery import Envelope, Outcome, Reply, Subscriber
from parley.apps.signing import (
    RETRY_HEADER,
    RETRY_REASON_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    verification_token,
)

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
MEMBER = {
    "PK": "CH#C1",
    "SK": "MEMBER#u2",
    "workspaceId": "W1",
    "channelId": "C1",
    "userId": "u2",
    "joinedAt": "2025-11-28T00:00:00.000Z",
}


# ---------------------------------------------------------------- events from the stream


def test_a_new_message_is_a_message_by_its_author() -> None:
    [event] = channel_events("INSERT", MESSAGE, None)
    assert (event.kind, event.actor, event.image) == ("message", "u1", MESSAGE)
    assert (event.workspace_id, event.channel_id) == ("W1", "C1")


def test_a_message_that_mentions_someone_is_also_an_app_mention_of_them() -> None:
    image = {**MESSAGE, "text": "hi <@B1> and <@u3>", "mentions": {"B1", "u3"}}
    message, mention = channel_events("INSERT", image, None)
    assert (message.kind, mention.kind) == ("message", "app_mention")
    assert mention.mentioned == frozenset({"B1", "u3"})
    assert mention.event_id != message.event_id


def test_an_edit_and_reactions_become_their_events_by_who_did_them() -> None:
    new = {
        **MESSAGE,
        "text": "hello!",
        "editedTs": "1764288100.000000",
        "version": 3,
        "reactions": [{"name": "tada", "users": ["u2"]}],
    }
    old = {**MESSAGE, "version": 2, "reactions": [{"name": "eyes", "users": ["u3"]}]}
    events = channel_events("MODIFY", new, old)
    assert [(e.kind, e.reaction, e.actor) for e in events] == [
        ("message_changed", None, "u1"),
        ("reaction_added", "tada", "u2"),
        ("reaction_removed", "eyes", "u3"),
    ]
    assert events[0].previous == old


def test_a_delete_a_join_a_leave_and_a_new_channel() -> None:
    [deleted] = channel_events("REMOVE", None, MESSAGE)
    assert (deleted.kind, deleted.image, deleted.actor) == ("message_deleted", MESSAGE, None)
    [joined] = channel_events("INSERT", MEMBER, None)
    [left] = channel_events("REMOVE", None, MEMBER)
    assert [(e.kind, e.user, e.actor) for e in (joined, left)] == [
        ("member_joined_channel", "u2", "u2"),
        ("member_left_channel", "u2", "u2"),
    ]
    meta = {
        "PK": "CH#C1",
        "SK": "META",
        "workspaceId": "W1",
        "channelId": "C1",
        "name": "deploys",
        "type": "public",
        "createdBy": "u1",
        "createdAt": "2025-11-28T00:00:00.000Z",
    }
    [created] = channel_events("INSERT", meta, None)
    assert (created.kind, created.channel_type, created.actor) == (
        "channel_created",
        "public",
        "u1",
    )


def test_other_items_and_quiet_changes_make_no_events() -> None:
    assert channel_events("INSERT", {"PK": "USER#u1", "SK": "PROFILE"}, None) == []
    assert channel_events("MODIFY", {**MESSAGE, "replyCount": 1}, MESSAGE) == []
    read = {**MEMBER, "lastReadTs": "1"}
    assert channel_events("MODIFY", read, {**read, "lastReadTs": "0"}) == []
    meta = {"PK": "CH#C1", "SK": "META", "workspaceId": "W1", "channelId": "C1"}
    assert channel_events("REMOVE", None, meta) == []


def test_a_redelivered_record_yields_the_same_event_ids() -> None:
    first = [e.event_id for e in channel_events("INSERT", MESSAGE, None)]
    assert first == [e.event_id for e in channel_events("INSERT", MESSAGE, None)]
    other = {**MESSAGE, "ts": "1764288000.000200", "SK": "MSG#1764288000.000200"}
    assert first != [e.event_id for e in channel_events("INSERT", other, None)]
    rejoined = {**MEMBER, "joinedAt": "2025-11-29T00:00:00.000Z"}
    ids = {
        channel_events("INSERT", MEMBER, None)[0].event_id,
        channel_events("REMOVE", None, MEMBER)[0].event_id,
        channel_events("INSERT", rejoined, None)[0].event_id,
    }
    assert len(ids) == 3


# ---------------------------------------------------------------- delivery


class FakeReceiver:
    """The app's endpoint: answers events from a script, the challenge as `challenge_reply`
    says, and records every request."""

    def __init__(self, *replies: Reply | int, challenge_reply: Any = None) -> None:
        self.replies = [r if isinstance(r, Reply) else Reply(r) for r in replies]
        self.challenge_reply = challenge_reply or (
            lambda challenge: Reply(200, json.dumps({"challenge": challenge}).encode())
        )
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Reply:
        assert timeout <= 3.0
        self.requests.append((url, body, dict(headers)))
        payload = json.loads(body)
        if payload.get("type") == "url_verification":
            return self.challenge_reply(payload["challenge"])  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping
        return self.replies.pop(0) if self.replies else Reply(200)

    def events(self) -> list[tuple[bytes, dict[str, str]]]:
        return [(b, h) for _, b, h in self.requests if b'"event_callback"' in b]


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
    return Subscriber("A1", "B1", URL, SECRET, verified, paused)


SLACK_EVENT = {
    "type": "message",
    "channel": "C1",
    "user": "u1",
    "text": "hello",
    "ts": "1764288000.000100",
    "event_ts": "1764288000.000100",
    "channel_type": "channel",
}


def envelope(retry: int = 0) -> Envelope:
    return Envelope(
        appId="A1",
        eventId="Ev0123456789abcdef01234567",
        eventTime=1764288000,
        workspaceId="W1",
        event=SLACK_EVENT,
        retryNum=retry,
    )


def test_a_delivery_is_slacks_envelope_signed_so_slack_sdk_verifies_it() -> None:
    receiver, state = FakeReceiver(200), FakeState()
    assert (
        delivery.deliver(envelope(), subscriber(), receiver, FakeQueue(), state)
        is Outcome.DELIVERED
    )
    [(body, headers)] = receiver.events()
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("another secret").is_valid_request(body, headers)
    assert headers[SIGNATURE_HEADER] == sign(SECRET, headers[TIMESTAMP_HEADER], body)
    assert abs(int(headers[TIMESTAMP_HEADER]) - time.time()) < 5
    assert headers["Content-Type"] == "application/json"
    assert RETRY_HEADER not in headers
    assert RETRY_REASON_HEADER not in headers
    assert not [name for name in headers if name.lower().startswith("x-parley")]
    assert json.loads(body) == {
        "token": verification_token(SECRET),
        "team_id": "W1",
        "api_app_id": "A1",
        "event": SLACK_EVENT,
        "type": "event_callback",
        "event_id": "Ev0123456789abcdef01234567",
        "event_time": 1764288000,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": "W1",
                "user_id": "B1",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def test_failures_are_retried_immediately_then_after_1_and_5_minutes_saying_why() -> None:
    timed_out = Reply(0, failure="timeout")
    receiver = FakeReceiver(500, timed_out, Reply(0, failure="connection"), 503)
    queue, state = FakeQueue(), FakeState()
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
    retries = [(h.get(RETRY_HEADER), h.get(RETRY_REASON_HEADER)) for _, h in receiver.events()]
    assert retries == [
        (None, None),
        ("1", "http_error"),
        ("2", "http_timeout"),
        ("3", "connection_failed"),
    ]
    assert state.lost_count == 1
    for body, headers in receiver.events():
        assert SignatureVerifier(SECRET).is_valid_request(body, headers)
        assert json.loads(body)["event_id"] == "Ev0123456789abcdef01234567"  # the same event


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(0, failure="timeout"), "http_timeout"),
        (Reply(0, failure="connection"), "connection_failed"),
        (Reply(0, failure="refused"), "connection_failed"),
        (Reply(0, failure="tls"), "ssl_error"),
        (Reply(0), "unknown_error"),
        (Reply(302), "too_many_redirects"),
        (Reply(404), "http_error"),
        (Reply(500), "http_error"),
        (Reply(200, b"not the challenge"), "unknown_error"),
    ],
)
def test_a_retry_is_named_with_slacks_reason_for_what_failed(reply: Reply, reason: str) -> None:
    assert delivery.retry_reason(reply) == reason


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


def test_a_new_url_is_verified_by_slacks_challenge_before_any_event() -> None:
    receiver, state = FakeReceiver(200), FakeState()
    assert (
        delivery.deliver(envelope(), subscriber(verified=None), receiver, FakeQueue(), state)
        is Outcome.DELIVERED
    )
    _, body, headers = receiver.requests[0]
    challenge = json.loads(body)
    assert set(challenge) == {"token", "challenge", "type"}
    assert (challenge["type"], challenge["token"]) == (
        "url_verification",
        verification_token(SECRET),
    )
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert state.verified == [URL]


def _bolts_answer(challenge: str) -> Reply:
    """What Bolt's url_verification middleware answers, as its adapters send it."""
    from slack_bolt.middleware.url_verification import UrlVerification

    response = UrlVerification._build_success_response({"challenge": challenge})
    content_type = response.headers["content-type"][0].split(";")[0]
    return Reply(response.status, response.body.encode(), content_type)


@pytest.mark.parametrize(
    "answer",
    [
        _bolts_answer,
        lambda c: Reply(200, json.dumps({"challenge": c}).encode(), "application/json"),
        lambda c: Reply(200, c.encode(), "text/plain"),
        lambda c: Reply(200, f"{c}\n".encode(), ""),
        lambda c: Reply(200, f"challenge={c}".encode(), "application/x-www-form-urlencoded"),
    ],
    ids=["bolt", "json", "text", "text without a type", "form"],
)
def test_every_answer_slack_accepts_passes_the_challenge(answer: Any) -> None:
    assert delivery.verify_url(FakeReceiver(challenge_reply=answer), URL, SECRET)


@pytest.mark.parametrize(
    "answer",
    [
        lambda c: Reply(200, b'{"challenge": "something else"}', "application/json"),
        lambda c: Reply(200, b"", ""),
        lambda c: Reply(500, json.dumps({"challenge": c}).encode(), "application/json"),
        lambda c: Reply(0, failure="timeout"),
        lambda c: Reply(200, json.dumps([c]).encode(), "application/json"),
        lambda c: Reply(200, b"challenge=nope", "application/x-www-form-urlencoded"),
    ],
    ids=["other challenge", "empty", "not a 2xx", "no answer", "a list", "other form"],
)
def test_answers_without_the_challenge_fail_it(answer: Any) -> None:
    assert not delivery.verify_url(FakeReceiver(challenge_reply=answer), URL, SECRET)


def test_a_url_that_fails_the_challenge_gets_no_event_and_counts_as_a_failure() -> None:
    wrong = FakeReceiver(challenge_reply=lambda c: Reply(200, b'{"challenge": "no"}'))
    queue, state = FakeQueue(), FakeState()
    outcome = delivery.deliver(envelope(), subscriber(verified=None), wrong, queue, state)
    assert outcome is Outcome.RETRY_SCHEDULED
    assert wrong.events() == []
    assert state.verified == []
    assert queue.sent[0][0].retryReason == "unknown_error"


@pytest.mark.parametrize(
    "app", [None, Subscriber("A1", "B1", None, SECRET, None, False)], ids=["no app", "no URL"]
)
def test_no_app_or_no_url_skips(app: Any) -> None:
    receiver = FakeReceiver()
    assert delivery.deliver(envelope(), app, receiver, FakeQueue(), FakeState()) is Outcome.SKIPPED
    assert receiver.requests == []
