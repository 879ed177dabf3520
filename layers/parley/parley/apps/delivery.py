"""Delivering Events API requests to an app: signed POSTs, retries, pausing. Pure logic
behind ports (the HTTP client, the queue, the app's delivery state).

A delivery is one POST of Slack's envelope (parley.slack.events), signed as Slack signs
(parley.apps.signing), that the app must answer with a 2xx within 3 seconds. A failure is
retried about immediately, after 1 minute and after 5 minutes (the envelope goes back on
the queue with that delay, carrying `retryNum` and `retryReason`, sent as Slack's
`X-Slack-Retry-Num` and `X-Slack-Retry-Reason`). When all four attempts fail the app's
failure count grows; at PAUSE_AFTER consecutive lost events the subscription is paused (and
reported) until an admin resumes it. A request URL is first verified by Slack's
`url_verification` challenge.
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from parley.apps.signing import (
    RETRY_HEADER,
    RETRY_REASON_HEADER,
    signed_headers,
    verification_token,
)
from parley.slack import events as slack_events

ACK_TIMEOUT_SECONDS = 3.0
RETRY_DELAYS_SECONDS = (0, 60, 300)  # before retries 1, 2 and 3 (Settings may change them)
PAUSE_AFTER = 5  # consecutive events lost (every attempt failed) before pausing

# Why no answer came: the answer did not come in time, the connection could not be made
# (or was dropped), TLS failed, or the URL guard refused the address (parley.apps.urls).
Failure = Literal["timeout", "connection", "tls", "refused"]
# Slack's X-Slack-Retry-Reason values, for what failed.
RetryReason = Literal[
    "http_timeout",
    "too_many_redirects",
    "connection_failed",
    "ssl_error",
    "http_error",
    "unknown_error",
]
_REASONS: dict[Failure | None, RetryReason] = {
    "timeout": "http_timeout",
    "connection": "connection_failed",
    "refused": "connection_failed",
    "tls": "ssl_error",
    None: "unknown_error",
}


@dataclass(frozen=True)
class Reply:
    status: int  # 0 when no answer came (refused, timed out, unreachable)
    body: bytes = b""
    content_type: str = ""  # the media type, lowercased, without parameters
    failure: Failure | None = None  # with status 0, why, when the client knows


@dataclass(frozen=True)
class Subscriber:
    """What delivery needs of an app."""

    app_id: str
    bot_user_id: str
    events_url: str | None
    signing_secret: str
    verified_url: str | None  # the URL that last passed the challenge
    paused: bool


class Envelope(BaseModel):
    """One event for one app, as queued; `request_body` is what the app is sent."""

    model_config = ConfigDict(frozen=True)

    appId: str
    eventId: str
    eventTime: int
    workspaceId: str
    event: dict[str, Any]  # Slack's event
    retryNum: int = 0
    retryReason: RetryReason | None = None  # why the attempt before this one failed

    def request_body(self, app: Subscriber) -> bytes:
        body = slack_events.event_callback(
            token=verification_token(app.signing_secret),
            team_id=self.workspaceId,
            api_app_id=self.appId,
            bot_user_id=app.bot_user_id,
            event=self.event,
            event_id=self.eventId,
            event_time=self.eventTime,
        )
        return json.dumps(body, separators=(",", ":")).encode()


class HttpPoster(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Reply: ...


class Requeue(Protocol):
    def send_delayed(self, body: str, delay_seconds: int) -> None: ...


class DeliveryState(Protocol):
    def url_verified(self, app_id: str, url: str) -> None: ...

    def delivered(self, app_id: str) -> None:
        """Resets the app's consecutive failure count."""
        ...

    def lost(self, app_id: str) -> int:
        """Counts one more lost event; returns the consecutive count."""
        ...

    def pause(self, app_id: str, reason: str) -> None: ...


class Outcome(Enum):
    DELIVERED = "delivered"
    RETRY_SCHEDULED = "retry_scheduled"
    LOST = "lost"  # every attempt failed
    PAUSED = "paused"  # lost, and that paused the subscription
    SKIPPED = "skipped"  # no URL, or the subscription is paused


def retry_reason(reply: Reply) -> RetryReason:
    """Slack's name for what went wrong with an answer that was not a 2xx (or that did not
    carry the challenge). Parley follows no redirect, so any 3xx is too many."""
    if reply.status == 0:
        return _REASONS[reply.failure]
    if 300 <= reply.status < 400:
        return "too_many_redirects"
    if 200 <= reply.status < 300:
        return "unknown_error"  # a 2xx without the challenge
    return "http_error"


def _post_signed(
    poster: HttpPoster,
    url: str,
    secret: str,
    body: bytes,
    retry: tuple[int, RetryReason | None] = (0, None),
) -> Reply:
    headers = {"Content-Type": "application/json", **signed_headers(secret, body)}
    retry_num, reason = retry
    if retry_num:
        headers[RETRY_HEADER] = str(retry_num)
        headers[RETRY_REASON_HEADER] = reason or "unknown_error"
    return poster.post(url, body, headers, ACK_TIMEOUT_SECONDS)


def _answers_challenge(reply: Reply, challenge: str) -> bool:
    """Slack's accepted answers: JSON `{"challenge": ...}`, a form `challenge=...`, or the
    bare value as text."""
    if not 200 <= reply.status < 300:
        return False
    text = reply.body.decode(errors="replace").strip()
    if reply.content_type == "application/x-www-form-urlencoded":
        return urllib.parse.parse_qs(text).get("challenge") == [challenge]
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        return answer.get("challenge") == challenge
    return text == challenge


def challenge_url(poster: HttpPoster, url: str, secret: str) -> Reply | None:
    """The challenge handshake: None when the URL echoed the challenge within the ack
    timeout, else its reply."""
    challenge = secrets.token_urlsafe(24)
    payload = slack_events.url_verification(verification_token(secret), challenge)
    reply = _post_signed(poster, url, secret, json.dumps(payload).encode())
    return None if _answers_challenge(reply, challenge) else reply


def verify_url(poster: HttpPoster, url: str, secret: str) -> bool:
    return challenge_url(poster, url, secret) is None


def deliver(
    envelope: Envelope,
    app: Subscriber | None,
    poster: HttpPoster,
    requeue: Requeue,
    state: DeliveryState,
    *,
    retry_delays: tuple[int, ...] = RETRY_DELAYS_SECONDS,
) -> Outcome:
    if app is None or not app.events_url or app.paused:
        return Outcome.SKIPPED
    url = app.events_url
    failed = None if app.verified_url == url else challenge_url(poster, url, app.signing_secret)
    if failed is None and app.verified_url != url:
        state.url_verified(app.app_id, url)
    if failed is None:
        body = envelope.request_body(app)
        retry = (envelope.retryNum, envelope.retryReason)
        reply = _post_signed(poster, url, app.signing_secret, body, retry)
        failed = None if 200 <= reply.status < 300 else reply
    if failed is None:
        state.delivered(app.app_id)
        return Outcome.DELIVERED
    if envelope.retryNum < len(retry_delays):
        retry_envelope = envelope.model_copy(
            update={"retryNum": envelope.retryNum + 1, "retryReason": retry_reason(failed)}
        )
        requeue.send_delayed(retry_envelope.model_dump_json(), retry_delays[envelope.retryNum])
        return Outcome.RETRY_SCHEDULED
    if state.lost(app.app_id) >= PAUSE_AFTER:
        state.pause(app.app_id, f"{PAUSE_AFTER} events in a row were not acknowledged")
        return Outcome.PAUSED
    return Outcome.LOST
