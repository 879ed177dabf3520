"""Delivering Events API requests to an app: signed POSTs, retries, pausing. Pure logic
behind ports (the HTTP client, the queue, the app's delivery state).

A delivery is one POST of the envelope, signed (parley.apps.signing), that the app must
answer with a 2xx within 3 seconds. A failure is retried about immediately, after 1 minute
and after 5 minutes (the envelope goes back on the queue with that delay, carrying
`retryNum`, sent as `X-Parley-Retry-Num`). When all four attempts fail the app's failure
count grows; at PAUSE_AFTER consecutive lost events the subscription is paused (and
reported) until an admin resumes it. A request URL is first verified by the challenge
handshake, as Slack's `url_verification`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from parley.apps.signing import RETRY_HEADER, signed_headers

ACK_TIMEOUT_SECONDS = 3.0
RETRY_DELAYS_SECONDS = (0, 60, 300)  # before retries 1, 2 and 3 (Settings may change them)
PAUSE_AFTER = 5  # consecutive events lost (every attempt failed) before pausing


class Envelope(BaseModel):
    """One event for one app: the queue message, and (without retryNum) the POSTed body."""

    model_config = ConfigDict(frozen=True)

    appId: str
    eventId: str
    eventTime: int
    workspaceId: str
    event: dict[str, Any]
    retryNum: int = 0

    def request_body(self) -> bytes:
        body = {
            "type": "event_callback",
            "apiAppId": self.appId,
            "teamId": self.workspaceId,
            "eventId": self.eventId,
            "eventTime": self.eventTime,
            "event": self.event,
        }
        return json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Reply:
    status: int  # 0 when no answer came (refused, timed out, unreachable)
    body: bytes = b""
    content_type: str = ""  # the media type, lowercased, without parameters


@dataclass(frozen=True)
class Subscriber:
    """What delivery needs of an app."""

    app_id: str
    events_url: str | None
    signing_secret: str
    verified_url: str | None  # the URL that last passed the challenge
    paused: bool


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


def _post_signed(poster: HttpPoster, url: str, secret: str, body: bytes, retry_num: int) -> Reply:
    headers = {"Content-Type": "application/json", **signed_headers(secret, body)}
    if retry_num:
        headers[RETRY_HEADER] = str(retry_num)
    return poster.post(url, body, headers, ACK_TIMEOUT_SECONDS)


def verify_url(poster: HttpPoster, url: str, secret: str) -> bool:
    """The challenge handshake: the URL must echo the challenge within the ack timeout."""
    challenge = secrets.token_urlsafe(24)
    body = json.dumps({"type": "url_verification", "challenge": challenge}).encode()
    reply = _post_signed(poster, url, secret, body, 0)
    if not 200 <= reply.status < 300:
        return False
    try:
        answer = json.loads(reply.body)
    except ValueError:
        return reply.body.decode(errors="replace").strip() == challenge
    return isinstance(answer, dict) and answer.get("challenge") == challenge


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
    ok = app.verified_url == url or verify_url(poster, url, app.signing_secret)
    if ok and app.verified_url != url:
        state.url_verified(app.app_id, url)
    if ok:
        body = envelope.request_body()
        reply = _post_signed(poster, url, app.signing_secret, body, envelope.retryNum)
        ok = 200 <= reply.status < 300
    if ok:
        state.delivered(app.app_id)
        return Outcome.DELIVERED
    if envelope.retryNum < len(retry_delays):
        retry = envelope.model_copy(update={"retryNum": envelope.retryNum + 1})
        requeue.send_delayed(retry.model_dump_json(), retry_delays[envelope.retryNum])
        return Outcome.RETRY_SCHEDULED
    if state.lost(app.app_id) >= PAUSE_AFTER:
        state.pause(app.app_id, f"{PAUSE_AFTER} events in a row were not acknowledged")
        return Outcome.PAUSED
    return Outcome.LOST
