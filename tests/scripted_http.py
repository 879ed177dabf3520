"""A stand-in AWS endpoint for the lean clients' tests (@connections, DynamoDB): HTTP/1.1
keep-alive on 127.0.0.1, in a thread of the test's process; it records each POST and answers
it from a script."""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

CLOSE = 0  # a scripted answer: close the connection without answering
SILENT = 1  # a scripted answer: wait a second, then close without answering


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    client_port: int  # one per TCP connection


class ScriptedServer:
    """Each request takes the next scripted answer (status, headers, body), or `(200, {},
    default_body)` once the script runs out. No Server or Date header, so that two clients'
    answers are the same bytes; `idle_timeout_s` closes a connection that waits that long
    for its next request; `tls` serves HTTPS."""

    def __init__(
        self,
        idle_timeout_s: float | None = None,
        tls: ssl.SSLContext | None = None,
        default_body: bytes = b"",
    ) -> None:
        self.seen: list[Seen] = []
        self.script: list[tuple[int, dict[str, str], bytes]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = idle_timeout_s

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                stand_in.seen.append(Seen(self.path, headers, body, self.client_address[1]))
                script = stand_in.script
                status, extra, answer = script.pop(0) if script else (200, {}, default_body)
                if status in (CLOSE, SILENT):
                    if status == SILENT:
                        threading.Event().wait(1)
                    self.close_connection = True
                    return
                self.send_response_only(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.origin = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    @contextlib.contextmanager
    def running(self) -> Iterator[Self]:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
