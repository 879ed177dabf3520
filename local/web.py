"""The web client (web/dist, built by `make web`) on its own port, with the stack's
`config.json` beside it, as the S3 bucket serves it in AWS (docs/deploy.md).

    with WebServer(web_config(stack.describe()), port=3003) as web:
        print(web.url)  # http://127.0.0.1:3003

A plain static server: the client talks to the HTTP API, the WebSocket API and Cognito (moto)
on their own ports, cross-origin, as it does in AWS. Every answer carries the content
security policy that CloudFront sends in AWS (the template's `WebSecurityHeaders`), its
`connect-src` naming the local stack's origins where AWS's are, so the browser tier runs the
client under the policy it is deployed with.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from local.intrinsics import REGION
from local.template import Template

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
POLICY_RESOURCE = "WebSecurityHeaders"

log = logging.getLogger(__name__)

WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"


class WebBuildMissing(RuntimeError):
    """web/dist has no build: `make web` makes it."""


def web_config(description: Mapping[str, Any], *, local: bool = True) -> dict[str, Any]:
    """config.json for the client from the stack's description (`.local/stack.json`'s shape;
    a deployed stack's has no Cognito endpoint, and the client then calls the region's).
    `local` tells the client that any confirmation code confirms a sign-up (moto's pool)."""
    cognito = description["cognito"]
    return {
        "httpUrl": description["httpUrl"],
        "wsUrl": description["wsUrl"],
        "region": description.get("region", REGION),
        "cognito": {
            "endpoint": cognito.get("endpoint", ""),
            "userPoolId": cognito["userPoolId"],
            "clientId": cognito["clientId"],
        },
        "local": local,
    }


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(config: Mapping[str, Any], template: Path = TEMPLATE) -> str:
    """The template's policy for the client, with `connect-src`'s AWS origins (`*.amazonaws.com`)
    replaced by the local stack's: the HTTP and WebSocket APIs, and moto (Cognito, S3)."""
    resource = Template.load(template).resources[POLICY_RESOURCE]
    policy = resource.properties["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"][
        "ContentSecurityPolicy"
    ]["ContentSecurityPolicy"]
    local = [config["httpUrl"], config["wsUrl"], config["cognito"].get("endpoint") or ""]
    directives = []
    for directive in str(policy).split(";"):
        words = directive.split()
        if words and words[0] == "connect-src":
            kept = [w for w in words[1:] if not w.endswith(".amazonaws.com")]
            words = ["connect-src", *kept, *sorted({_origin(u) for u in local if u})]
        if words:
            directives.append(" ".join(words))
    return "; ".join(directives)


def _application(dist: Path, config: Mapping[str, Any], policy: str) -> web.Application:
    body = json.dumps(config, indent=2)

    async def secure(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["content-security-policy"] = policy

    async def config_json(request: web.Request) -> web.Response:
        return web.Response(
            text=body, content_type="application/json", headers={"cache-control": "no-store"}
        )

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(dist / "index.html", headers={"cache-control": "no-cache"})

    app = web.Application()
    app.on_response_prepare.append(secure)
    app.router.add_get("/config.json", config_json)
    app.router.add_get("/", index)
    app.router.add_static("/", dist, show_index=False)
    return app


class WebServer:
    """Serves `dist` and `config` on 127.0.0.1 from a thread of its own; a taken port
    falls back to a free one (0 asks for one)."""

    def __init__(
        self, config: Mapping[str, Any], *, port: int = 3003, dist: Path = WEB_DIST
    ) -> None:
        if not (dist / "index.html").is_file() or not (dist / "app.js").is_file():
            raise WebBuildMissing(f"{dist} has no build of the web client: run `make web`")
        self._app = _application(dist, config, content_security_policy(config))
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", self._port))
        except OSError:
            log.warning("port %d is taken; the web client uses a free port instead", self._port)
            sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="web", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(sock), self._loop).result(10)
        log.info("web client on %s", self.url)
        return self

    async def _serve(self, sock: socket.socket) -> None:
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    def stop(self) -> None:
        if self._loop and self._thread:
            if self._runner:
                asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
                self._runner = None
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
            self._loop, self._thread = None, None
