"""The HTTP client that calls apps (stdlib only: nothing for the layer to carry).

Redirects are not followed (a 3xx is an answer, and not a 2xx); an answer that does not
come within the timeout, a refused connection, a TLS failure or an address the SSRF guard
refuses (parley.apps.urls) is `Reply(0)`. The guard judges the address each connection
actually reached, after connecting and before a byte of the request is sent, so that DNS
cannot be made to answer differently between the check and the call.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from parley.apps.delivery import Failure, Reply
from parley.apps.urls import UnsafeUrl, refused_address

MAX_REPLY_BYTES = 64 * 1024  # a challenge answer or a command's reply: all Parley reads


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _check_peer(connection: http.client.HTTPConnection) -> None:
    if connection.sock is None:
        return
    address = str(connection.sock.getpeername()[0])
    reason = refused_address(address)
    if reason is not None:
        connection.close()
        raise UnsafeUrl(f"refused to call {connection.host}: {reason}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _check_peer(self)


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _check_peer(self)


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPConnection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPSConnection, req)


class UrllibPoster:
    """POSTs to apps. `allow_private` (the local runtime) lets private addresses through."""

    def __init__(self, allow_private: bool = False) -> None:
        # No ProxyHandler: a proxy from the environment would be the peer the guard judges.
        handlers: list[urllib.request.BaseHandler] = [_NoRedirects()]
        if not allow_private:
            handlers += [_GuardedHTTPHandler(), _GuardedHTTPSHandler()]
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), *handlers)

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Reply:
        if not url.startswith(("http://", "https://")):
            return Reply(0)
        request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310  # http(s) only, checked above
        try:
            with self._opener.open(request, timeout=timeout) as answer:
                return Reply(answer.status, answer.read(MAX_REPLY_BYTES), _content_type(answer))
        except urllib.error.HTTPError as error:
            return Reply(error.code)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
            # UnsafeUrl is a ValueError; urllib wraps it in URLError when raised in connect
            return Reply(0, failure=_failure(error))


def _failure(error: Exception) -> Failure:
    """Why no answer came (delivery names its retries' reason after it)."""
    cause = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(cause, TimeoutError):
        return "timeout"
    if isinstance(cause, ssl.SSLError):
        return "tls"
    if isinstance(cause, UnsafeUrl):
        return "refused"
    return "connection"


def _content_type(answer: Any) -> str:
    return str(answer.headers.get("content-type", "")).split(";", 1)[0].strip().lower()
