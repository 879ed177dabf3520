"""Slack's v0 request signing under Slack's headers: fixed vectors, slack_sdk's verifier,
the replay window, tampering, the payloads' token."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from slack_sdk.signature import SignatureVerifier

from parley.apps.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    InvalidSignature,
    sign,
    signed_headers,
    verification_token,
    verify,
)

# Slack's published example (api.slack.com/authentication/verifying-requests-from-slack;
# the same constants as Slack's SDK tests). The body's token is `xyzz0WbapA4vBCDEFasx0q6G`:
# with any other token the documented signature does not come out.
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_TIMESTAMP = "1531420618"
SLACK_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    "&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    "&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

NOW = 1_764_288_000  # 2025-11-28T00:00:00Z


def by_hand(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def test_slacks_published_example_signs_and_verifies() -> None:
    assert sign(SLACK_SECRET, SLACK_TIMESTAMP, SLACK_BODY) == SLACK_SIGNATURE
    verify(SLACK_SECRET, SLACK_TIMESTAMP, SLACK_SIGNATURE, SLACK_BODY, now=int(SLACK_TIMESTAMP))


@pytest.mark.parametrize(
    ("secret", "timestamp", "body"),
    [
        ("s3cr3t", "1764288000", b'{"type":"url_verification","challenge":"abc"}'),
        ("0" * 64, "1700000000", b""),
        ("k", "1764288000", "caf\u00e9 \u2615 \U0001f680".encode()),
    ],
    ids=["json event", "empty body", "utf-8 body"],
)
def test_signatures_match_hmac_sha256_computed_by_hand(
    secret: str, timestamp: str, body: bytes
) -> None:
    expected = by_hand(secret, timestamp, body)
    assert sign(secret, timestamp, body) == expected
    assert sign(secret, int(timestamp), body) == expected
    verify(secret, timestamp, expected, body, now=int(timestamp))


def test_signed_headers_verify_on_the_receiving_side() -> None:
    body = b'{"event":{"type":"message"}}'
    headers = signed_headers("secret", body, now=NOW)
    assert headers[TIMESTAMP_HEADER] == str(NOW)
    verify("secret", headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], body, now=NOW + 1)


def test_the_headers_are_slacks_and_slack_sdks_verifier_accepts_them() -> None:
    body = "payload=caf\u00e9".encode()
    headers = signed_headers(SLACK_SECRET, body)
    assert set(headers) == {"X-Slack-Request-Timestamp", "X-Slack-Signature"}
    assert SignatureVerifier(SLACK_SECRET).is_valid_request(body, headers)
    assert SignatureVerifier(SLACK_SECRET).is_valid_request(body.decode(), headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    assert not SignatureVerifier(SLACK_SECRET).is_valid_request(body + b"!", headers)


def test_the_payloads_token_is_stable_per_secret_and_is_not_the_secret() -> None:
    token = verification_token(SLACK_SECRET)
    assert token == verification_token(SLACK_SECRET)
    assert token != verification_token("another secret")
    assert len(token) == 24
    assert token not in SLACK_SECRET


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_timestamps_within_five_minutes_either_way_pass(skew: int) -> None:
    headers = signed_headers("secret", b"x", now=NOW)
    verify("secret", headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], b"x", now=NOW + skew)


@pytest.mark.parametrize("skew", [-301, 301, 86_400])
def test_a_replay_outside_the_window_is_refused_even_when_correctly_signed(skew: int) -> None:
    headers = signed_headers("secret", b"x", now=NOW)
    with pytest.raises(InvalidSignature, match="window"):
        verify("secret", headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], b"x", now=NOW + skew)


@pytest.mark.parametrize(
    ("secret", "timestamp", "signature", "body", "reason"),
    [
        ("other", str(NOW), None, b"x", "does not match"),
        ("secret", str(NOW), None, b"y", "does not match"),
        ("secret", str(NOW + 1), None, b"x", "does not match"),
        ("secret", str(NOW), "v1=" + "0" * 64, b"x", "version"),
        ("secret", str(NOW), "v0=" + "0" * 64, b"x", "does not match"),
        ("secret", str(NOW), "", b"x", "missing"),
        ("secret", "", None, b"x", "missing"),
        ("secret", "soon", None, b"x", "integer"),
    ],
    ids=[
        "other secret",
        "tampered body",
        "other timestamp",
        "other version",
        "wrong digest",
        "no signature",
        "no timestamp",
        "timestamp not a number",
    ],
)
def test_verification_refuses(
    secret: str, timestamp: str, signature: str | None, body: bytes, reason: str
) -> None:
    genuine = sign("secret", NOW, b"x")
    with pytest.raises(InvalidSignature, match=reason):
        verify(secret, timestamp, genuine if signature is None else signature, body, now=NOW)


def test_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The digest is compared with hmac.compare_digest, never ==."""
    from parley.apps import signing

    calls: list[tuple[bytes, bytes]] = []
    compare = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(signing.hmac, "compare_digest", recording)
    verify(SLACK_SECRET, SLACK_TIMESTAMP, SLACK_SIGNATURE, SLACK_BODY, now=int(SLACK_TIMESTAMP))
    assert calls == [(SLACK_SIGNATURE.encode(), SLACK_SIGNATURE.encode())]
