"""An echo bot for Parley, standard library only: what an app needs, in one file.

    python examples/echo_app/echo_app.py serve   # the app's URLs: /events and /commands
    python examples/echo_app/echo_app.py hook URL TEXT   # post through an incoming webhook

`serve` reads PARLEY_API_URL (the HTTP API), PARLEY_BOT_TOKEN and PARLEY_SIGNING_SECRET
(both shown once when the app is created) from the environment or its options, and then:

- verifies every request as a Slack app does: X-Slack-Signature is `v0=` HMAC-SHA256 of
  `v0:{X-Slack-Request-Timestamp}:{body}` with the signing secret, and a timestamp more
  than 5 minutes from its clock (a replay) is refused: 401;
- answers the Events API's url_verification challenge;
- echoes each `message` event (Slack's envelope) it hears back into its channel with its
  bot token through Slack's Web API (`POST /api/chat.postMessage`), once per event_id (a
  retry repeats the id), and never another bot's message (one with `bot_id`), so two echo
  bots cannot loop;
- answers the slash command `/echo TEXT` in the channel (`response_type: in_channel`), and
  a second later once more, to the invoker alone, through the command's response_url.

It prints `listening on http://HOST:PORT` when it is ready (port 0 picks a free one).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_AGE_SECONDS = 5 * 60
ECHO_PREFIX = "echo: "
DELAYED_REPLY_SECONDS = 1.0


class BadSignature(Exception):
    pass


def verify(secret: str, timestamp: str | None, signature: str | None, body: bytes) -> None:
    """Raises BadSignature unless the headers sign `body` with `secret`, within 5 minutes."""
    if not timestamp or not signature:
        raise BadSignature("missing X-Slack-Signature or X-Slack-Request-Timestamp")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise BadSignature("the timestamp is not an integer") from None
    if abs(time.time() - sent_at) > MAX_AGE_SECONDS:
        raise BadSignature("the timestamp is more than 5 minutes away: a replay?")
    base = f"v0:{timestamp}:".encode() + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise BadSignature("the signature does not match")


def call(url: str, body: dict[str, Any], token: str | None = None) -> tuple[int, Any]:
    """POSTs JSON; returns the status and the decoded reply."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310  # the URLs come from Parley or the user
        url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
            return reply.status, json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class EchoApp:
    def __init__(self, api_url: str, bot_token: str, signing_secret: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def on_event(self, payload: dict[str, Any]) -> None:
        """An event_callback: echo a person's new message into its channel, once per
        event_id."""
        with self._lock:
            if payload.get("event_id") in self._seen:
                return
            self._seen.add(str(payload.get("event_id")))
        event = payload.get("event") or {}
        text = str(event.get("text", ""))
        if event.get("type") != "message" or "subtype" in event or "bot_id" in event:
            return  # edits, deletions and bots' messages (another echo bot's) are not echoed
        if not text:
            return
        body = {"channel": event["channel"], "text": ECHO_PREFIX + text}
        status, reply = call(f"{self.api_url}/api/chat.postMessage", body, self.bot_token)
        ok = status == 200 and isinstance(reply, dict) and reply.get("ok")
        log(f"echoed a message: {'ok' if ok else f'{status} {reply}'}")

    def on_command(self, form: dict[str, str]) -> dict[str, Any]:
        """A slash command: the answer now, and one more later through the response_url."""
        if form.get("command") != "/echo":
            return {"text": f"I only know /echo, not {form.get('command')}"}
        text = form.get("text") or "(nothing)"
        threading.Thread(target=self._later, args=(form["response_url"], text), daemon=True).start()
        return {"response_type": "in_channel", "text": ECHO_PREFIX + text}

    def _later(self, response_url: str, text: str) -> None:
        time.sleep(DELAYED_REPLY_SECONDS)
        body = {"response_type": "ephemeral", "text": f"(a second later, for you) {text}"}
        status, _ = call(response_url, body)
        log(f"answered through the response_url: {status}")


def handler_for(app: EchoApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            try:
                verify(
                    app.signing_secret,
                    self.headers.get("X-Slack-Request-Timestamp"),
                    self.headers.get("X-Slack-Signature"),
                    body,
                )
            except BadSignature as refused:
                log(f"refused a request to {self.path}: {refused}")
                self._answer(401, {"error": str(refused)})
                return
            if self.path == "/events":
                payload = json.loads(body)
                if payload.get("type") == "url_verification":
                    self._answer(200, {"challenge": payload["challenge"]})
                    return
                self._answer(200, None)  # acknowledge within 3 s, then do the work
                threading.Thread(target=app.on_event, args=(payload,), daemon=True).start()
            elif self.path == "/commands":
                form = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
                self._answer(200, app.on_command(form))
            else:
                self._answer(404, {"error": "no such path"})

        def _answer(self, status: int, body: Any) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def log(line: str) -> None:
    print(line, flush=True)


def serve(args: argparse.Namespace) -> int:
    missing = [
        name for name in ("api_url", "bot_token", "signing_secret") if not getattr(args, name)
    ]
    if missing:
        log(f"missing: {', '.join(missing)} (options or PARLEY_* variables)")
        return 2
    app = EchoApp(args.api_url, args.bot_token, args.signing_secret)
    server = ThreadingHTTPServer((args.host, args.port), handler_for(app))
    log(f"listening on http://{args.host}:{server.server_port}")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def hook(args: argparse.Namespace) -> int:
    """As Slack's, the webhook answers `ok` as text, or its error text with a 4xx."""
    body = json.dumps({"text": args.text}).encode()
    request = urllib.request.Request(  # noqa: S310  # the URL comes from the user
        args.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
            status, text = reply.status, reply.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode(errors="replace")
    log(f"{status} {text}")
    return 0 if status == 200 else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="echo_app.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="what", required=True)
    run = commands.add_parser("serve", help="run the app's /events and /commands URLs")
    run.add_argument("--api-url", default=os.environ.get("PARLEY_API_URL"))
    run.add_argument("--bot-token", default=os.environ.get("PARLEY_BOT_TOKEN"))
    run.add_argument("--signing-secret", default=os.environ.get("PARLEY_SIGNING_SECRET"))
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8787)
    post = commands.add_parser("hook", help="post TEXT through an incoming webhook URL")
    post.add_argument("url")
    post.add_argument("text")
    args = parser.parse_args(argv)
    return serve(args) if args.what == "serve" else hook(args)


if __name__ == "__main__":
    sys.exit(main())
