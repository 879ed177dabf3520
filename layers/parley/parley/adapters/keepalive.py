"""One kept-alive HTTP/1.1 connection per thread to one host: the transport of Parley's lean
AWS clients (DynamoDB in `parley.adapters.dynamodb.transport`, @connections in
`parley.adapters.connections`), which sign their own requests.

Each request's answer is read to its end, so the connection can serve the next; on any
failure the connection is closed and the next request opens a new one. A kept-alive
connection that the server closed while idle fails at once: the request then goes again on
a new connection, without a pause and without counting as an attempt of the caller's.
"""

from __future__ import annotations

import http.client
import ssl
import threading
import urllib.parse
from collections.abc import Callable
from typing import NamedTuple


class Answer(NamedTuple):
    """An HTTP answer, read to its end; header names in lower case, repeated ones joined."""

    status: int
    headers: dict[str, str]
    body: bytes


class KeepAlive:
    """POSTs to one host. Connecting (TLS included) has `connect_timeout_s`, each exchange
    `read_timeout_s`; TLS verifies certificates against the system's or `ca_bundle`'s,
    loaded with the first connection (tens of milliseconds, kept out of a cold start)."""

    def __init__(
        self,
        hostname: str,
        port: int | None,
        *,
        https: bool,
        connect_timeout_s: float,
        read_timeout_s: float,
        ca_bundle: str | None = None,
        connect_error: Callable[[OSError], Exception] | None = None,
    ) -> None:
        self._hostname = hostname
        self._port = port
        self._https = https
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._ca_bundle = ca_bundle
        self._connect_error = connect_error
        self._tls: ssl.SSLContext | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    @classmethod
    def to_url(
        cls,
        url: str,
        *,
        timeout_s: float,
        read_timeout_s: float | None = None,
        ca_bundle: str | None = None,
        connect_error: Callable[[OSError], Exception] | None = None,
    ) -> tuple[KeepAlive, urllib.parse.SplitResult]:
        """A transport to an http(s) URL's host, and the URL split (its path and the host
        that requests sign); ValueError for any other URL."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        transport = cls(
            parts.hostname,
            parts.port,
            https=parts.scheme == "https",
            connect_timeout_s=timeout_s,
            read_timeout_s=timeout_s if read_timeout_s is None else read_timeout_s,
            ca_bundle=ca_bundle,
            connect_error=connect_error,
        )
        return transport, parts

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        """Raises what `http.client` raises (an `OSError` or an `HTTPException`); an error
        in making the connection (refused, timed out, TLS) goes through `connect_error`
        first when one is given."""
        connection = self._connection()
        if connection.sock is not None:  # kept alive: the server may have closed it
            try:
                return self._exchange(connection, path, body, headers)
            except ConnectionError:
                pass
        return self._exchange(connection, path, body, headers)

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        path: str,
        body: bytes,
        headers: dict[str, str],
    ) -> Answer:
        if connection.sock is None:
            self._open(connection)
        try:
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            connection.close()
            raise
        received: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            received[key] = f"{received[key]}, {value}" if key in received else value
        return Answer(response.status, received, data)

    def _open(self, connection: http.client.HTTPConnection) -> None:
        try:
            connection.connect()
        except OSError as error:
            connection.close()
            if self._connect_error is None:
                raise
            raise self._connect_error(error) from error
        connection.sock.settimeout(self._read_timeout_s)

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            if self._https:
                connection = http.client.HTTPSConnection(
                    self._hostname,
                    self._port,
                    timeout=self._connect_timeout_s,
                    context=self._tls_context(),
                )
            else:
                connection = http.client.HTTPConnection(
                    self._hostname, self._port, timeout=self._connect_timeout_s
                )
            self._local.connection = connection
        return connection

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            with self._lock:
                if self._tls is None:
                    self._tls = ssl.create_default_context(cafile=self._ca_bundle)
        return self._tls
