"""The example app (examples/echo_app, stdlib only): its own signature check agrees with
Parley's signer under Slack's headers, on Slack's published vector, and keeps the 5-minute
replay window; it echoes people's messages from Slack's envelope, once per event_id, and
never a bot's."""

from __future__ import annotations

from typing import Any

import pytest

from examples.echo_app import echo_app
from parley.apps.signing import signed_headers

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_TIMESTAMP = "1531420618"
SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
    b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
    b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
    b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
    b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_slacks_vector_verifies_within_five_minutes(
    monkeypatch: pytest.MonkeyPatch, skew: int
) -> None:
    monkeypatch.setattr(echo_app.time, "time", lambda: int(SLACK_TIMESTAMP) + skew)
    echo_app.verify(SLACK_SECRET, SLACK_TIMESTAMP, SLACK_SIGNATURE, SLACK_BODY)


@pytest.mark.parametrize("skew", [-301, 301, 86_400])
def test_a_replay_outside_the_window_is_refused(monkeypatch: pytest.MonkeyPatch, skew: int) -> None:
    monkeypatch.setattr(echo_app.time, "time", lambda: int(SLACK_TIMESTAMP) + skew)
    with pytest.raises(echo_app.BadSignature, match="5 minutes"):
        echo_app.verify(SLACK_SECRET, SLACK_TIMESTAMP, SLACK_SIGNATURE, SLACK_BODY)


def test_what_parley_signs_the_example_accepts_and_nothing_else() -> None:
    body = b'{"type":"event_callback"}'
    headers = signed_headers("s3cret", body)
    timestamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    echo_app.verify("s3cret", timestamp, signature, body)
    for secret, sent in (("other", body), ("s3cret", body + b" ")):
        with pytest.raises(echo_app.BadSignature, match="does not match"):
            echo_app.verify(secret, timestamp, signature, sent)
    with pytest.raises(echo_app.BadSignature, match="missing"):
        echo_app.verify("s3cret", None, signature, body)


def test_it_echoes_a_persons_message_once_and_no_bots_message_or_edit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, dict[str, Any], str | None]] = []

    def call(url: str, body: dict[str, Any], token: str | None = None) -> tuple[int, Any]:
        calls.append((url, body, token))
        return 200, {"ok": True}

    monkeypatch.setattr(echo_app, "call", call)
    app = echo_app.EchoApp("http://parley.test/", "xoxb-echo", "s3cret")
    message = {"type": "message", "channel": "C1", "user": "U1", "text": "hi", "ts": "1.000001"}

    def delivery(event_id: str, **event: Any) -> dict[str, Any]:
        return {"type": "event_callback", "event_id": event_id, "event": {**message, **event}}

    app.on_event(delivery("Ev1"))
    app.on_event(delivery("Ev1"))  # a retry of the same event
    app.on_event(delivery("Ev2", bot_id="B2", app_id="A2"))
    app.on_event(delivery("Ev3", subtype="message_changed"))
    assert calls == [
        (
            "http://parley.test/api/chat.postMessage",
            {"channel": "C1", "text": "echo: hi"},
            "xoxb-echo",
        )
    ]
