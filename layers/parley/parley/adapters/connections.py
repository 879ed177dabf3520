"""Adapter over API Gateway's @connections management API: POST a frame to a connection.

A lean client instead of boto3's `apigatewaymanagementapi`: one keep-alive `http.client`
connection per thread and a SigV4 signature from `parley.adapters.sigv4`; on the wire, the
request boto3 sends without boto3's User-Agent and `amz-sdk-*` bookkeeping headers.
Fan-out posts once per live connection of an audience, so these posts are most of a
sendMessage's CPU: bench/transport.py measures a post here at 2.5 times less CPU than the
same code over urllib3 with botocore's SigV4Auth and 5 times less than boto3's, and the first
post of a process at a fifth of boto3's (docs/decisions.md, "The lean clients' wire").
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from parley.adapters.keepalive import KeepAlive
from parley.adapters.sigv4 import find_credentials, host_header, signed_headers

if TYPE_CHECKING:
    from botocore.credentials import Credentials, ReadOnlyCredentials

TIMEOUT_S = 5
MAX_ATTEMPTS = 3  # botocore's "standard" retry mode
BACKOFF_S = 0.05  # botocore's base for transient errors; its 1 s for throttling is too slow here
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
SERVICE = "execute-api"


class ConnectionsApiError(Exception):
    """An answer that is neither delivered nor gone (403, 413, 400...), or the last of the
    retried ones (429, 5xx)."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(f"{status} {error_type or 'error'}: {message}")
        self.status = status
        self.error_type = error_type
        self.message = message


class ConnectionsApi:
    """Posts frames to WebSocket connections; each thread keeps its own connection alive.
    `clock` gives the signing time in epoch seconds (tests freeze it)."""

    def __init__(
        self, endpoint_url: str, region: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._transport, endpoint = KeepAlive.to_url(endpoint_url, timeout_s=TIMEOUT_S)
        self._host = host_header(endpoint)
        self._base_path = endpoint.path.removesuffix("/")  # as botocore joins the two
        self._region = region
        self._clock = clock
        self._credentials: Credentials | None = None
        self._lock = threading.Lock()

    def post(self, connection_id: str, data: bytes) -> bool:
        """Sends one frame; False when the connection is gone (410), so the caller prunes it.

        429 and 5xx answers and network errors are tried again after a jittered, growing
        pause, three attempts in all; any other answer raises `ConnectionsApiError`."""
        path = f"{self._base_path}/@connections/{urllib.parse.quote(connection_id, safe='')}"
        for attempt in range(1, MAX_ATTEMPTS):
            try:
                answer = self._send(path, data)
            except (OSError, http.client.HTTPException):
                pass
            else:
                if answer.status not in RETRYABLE_STATUSES:
                    return answer.delivered()
            time.sleep(random.random() * BACKOFF_S * 2 ** (attempt - 1))  # noqa: S311 jitter
        return self._send(path, data).delivered()

    def _send(self, path: str, data: bytes) -> Answer:
        """One signed POST on the thread's kept-alive connection (`parley.adapters.keepalive`)."""
        headers = signed_headers(
            "POST",
            self._host,
            path,
            data,
            service=SERVICE,
            credential=self._credential(),
            region=self._region,
            now=self._clock(),
        )
        answer = self._transport.post(path, data, headers)
        return Answer(answer.status, answer.headers.get("x-amzn-errortype"), answer.body)

    def _credential(self) -> ReadOnlyCredentials:
        """Botocore's chain (environment, profile, container, instance), found once; read
        per request, so credentials that refresh themselves keep working."""
        if self._credentials is None:
            with self._lock:
                if self._credentials is None:
                    self._credentials = find_credentials()
        return self._credentials.get_frozen_credentials()


class Answer(NamedTuple):
    """An HTTP answer, read to its end."""

    status: int
    error_type: str | None  # the x-amzn-ErrorType header
    body: bytes

    def delivered(self) -> bool:
        """True for a 2xx, False for 410 Gone; any other answer raises its error."""
        if 200 <= self.status < 300:
            return True
        if self.status == 410:
            return False
        raise self.error()

    def error(self) -> ConnectionsApiError:
        """The error as botocore's rest-json parser reads it: the type from the header or
        the body's `code`/`__type`, trimmed of a `:...` suffix and a `...#` prefix."""
        try:
            document = json.loads(self.body) if self.body else {}
        except ValueError:
            document = {"message": self.body.decode(errors="replace")}
        if not isinstance(document, dict):
            document = {}
        kind = self.error_type or document.get("code") or document.get("Code")
        kind = str(kind or document.get("__type") or "").split(":", 1)[0].rsplit("#", 1)[-1]
        message = document.get("message") or document.get("Message") or ""
        return ConnectionsApiError(self.status, kind, str(message))
