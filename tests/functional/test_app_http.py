"""The HTTP client that calls apps, over real sockets (no stack): the SSRF guard judges the
address each connection reached, so a receiver on 127.0.0.1 is refused unless private
addresses are allowed, and it is never sent the request; redirects are answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from parley.adapters.app_http import UrllibPoster


class Receiver:
    def __init__(self) -> None:
        self.requests: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests.append(self.path)
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    threading.Thread(target=running.server.serve_forever, daemon=True).start()
    yield running
    running.server.shutdown()


def test_a_loopback_receiver_is_refused_before_the_request_is_sent(receiver: Receiver) -> None:
    reply = UrllibPoster(allow_private=False).post(f"{receiver.url}/events", b"{}", {}, 3.0)
    assert reply.status == 0
    assert receiver.requests == []


def test_a_name_that_resolves_to_loopback_is_refused_too(receiver: Receiver) -> None:
    port = receiver.url.rsplit(":", 1)[1]
    reply = UrllibPoster(allow_private=False).post(f"http://localhost:{port}/e", b"{}", {}, 3.0)
    assert reply.status == 0
    assert receiver.requests == []


def test_where_private_addresses_are_allowed_the_receiver_answers(receiver: Receiver) -> None:
    reply = UrllibPoster(allow_private=True).post(f"{receiver.url}/events", b"{}", {}, 3.0)
    assert (reply.status, reply.body, reply.content_type) == (
        200,
        b'{"ok": true}',
        "application/json",
    )
    assert receiver.requests == ["/events"]


def test_a_redirect_is_an_answer_never_followed(receiver: Receiver) -> None:
    reply = UrllibPoster(allow_private=True).post(f"{receiver.url}/redirect", b"{}", {}, 3.0)
    assert reply.status == 302
    assert receiver.requests == ["/redirect"]


def test_other_schemes_are_not_called() -> None:
    assert UrllibPoster(allow_private=True).post("file:///etc/passwd", b"", {}, 3.0).status == 0


def test_no_answer_says_why_for_the_retry_reason() -> None:
    """A receiver that accepts but never answers times out; a closed port refuses; the URL
    guard's refusal is told apart (delivery names its retries after these)."""
    import socket

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        silent = f"http://127.0.0.1:{listening.getsockname()[1]}/events"
        timed_out = UrllibPoster(allow_private=True).post(silent, b"{}", {}, 0.5)
        refused = UrllibPoster(allow_private=True).post(
            f"http://127.0.0.1:{closed_port}/events", b"{}", {}, 3.0
        )
        guarded = UrllibPoster(allow_private=False).post(silent, b"{}", {}, 3.0)
    finally:
        listening.close()
    assert (timed_out.status, timed_out.failure) == (0, "timeout")
    assert (refused.status, refused.failure) == (0, "connection")
    assert (guarded.status, guarded.failure) == (0, "refused")
