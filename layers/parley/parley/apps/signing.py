"""Request signing for what Parley sends an app: Slack's v0 scheme, under Slack's headers.

The signature is HMAC-SHA256, keyed with the app's signing secret, of
`v0:{timestamp}:{body}` (the raw body bytes, exactly as sent), written as `v0=<hex>` in
`X-Slack-Signature`, with the timestamp (epoch seconds) in `X-Slack-Request-Timestamp`, so
`slack_sdk.signature.SignatureVerifier` and Bolt verify Parley's requests as Slack's. A
receiver recomputes it over the body it got and compares in constant time; the timestamp,
covered by the signature, bounds replay to a 5-minute window either side of its clock.
"""

from __future__ import annotations

import hashlib
import hmac
import time

VERSION = "v0"
SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
RETRY_HEADER = "X-Slack-Retry-Num"
RETRY_REASON_HEADER = "X-Slack-Retry-Reason"
MAX_AGE_SECONDS = 5 * 60


class InvalidSignature(Exception):
    """The request is unsigned, stale, or not signed with this secret over this body."""


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def sign(secret: str, timestamp: int | str, body: str | bytes) -> str:
    """`v0=<hex>` for this body at this timestamp."""
    base = f"{VERSION}:{timestamp}:".encode() + _as_bytes(body)
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def signed_headers(secret: str, body: str | bytes, now: float | None = None) -> dict[str, str]:
    """The two headers a request carrying `body` needs, signed now."""
    timestamp = int(time.time() if now is None else now)
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verification_token(secret: str) -> str:
    """The `token` of Slack's payloads (its deprecated verification token): Parley issues
    none, so it sends one derived from the signing secret, the same on every request of an
    app and revealing nothing of the secret. Signatures, not this, prove a request genuine."""
    return hmac.new(secret.encode(), b"verification token", hashlib.sha256).hexdigest()[:24]


def verify(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: str | bytes,
    *,
    now: float | None = None,
    max_age_seconds: int = MAX_AGE_SECONDS,
) -> None:
    """Returns if the headers sign `body` with `secret` within the window; else raises
    InvalidSignature saying why (for the receiver's log, never the expected value)."""
    if not timestamp or not signature:
        raise InvalidSignature("missing signature or timestamp header")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise InvalidSignature("the timestamp is not an integer") from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > max_age_seconds:
        raise InvalidSignature("the timestamp is outside the 5-minute window")
    if not signature.startswith(f"{VERSION}="):
        raise InvalidSignature(f"unknown signature version (expected {VERSION})")
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise InvalidSignature("the signature does not match")
