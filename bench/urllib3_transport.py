"""The lean clients' protocol code over urllib3 with botocore's `SigV4Auth`: the alternative
that bench/transport.py measures the hand-written transport against (`http.client` kept
alive, `parley.adapters.keepalive`, signed by `parley.adapters.sigv4`).

Only the wire differs: `Urllib3DynamoDB` is the layer's `DynamoDBHttp` and
`Urllib3Connections` its `ConnectionsApi`, each with the one method that signs and sends a
request replaced. Both libraries are in the layer already (botocore for pynamodb, urllib3
for botocore), and a function that uses the store imports both at cold start. The wire is
written as it would have to ship: botocore's exceptions for urllib3's, as botocore's own
HTTP session raises them, and the TLS context made once, with the first connection (urllib3
would otherwise load the certificates for every new connection).
"""

from __future__ import annotations

import ssl
import threading
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import botocore.exceptions
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from parley.adapters import connections
from parley.adapters.connections import TIMEOUT_S, ConnectionsApi
from parley.adapters.dynamodb.transport import SERVICE, DynamoDBHttp, Endpoint
from parley.adapters.keepalive import Answer

if TYPE_CHECKING:
    from botocore.credentials import ReadOnlyCredentials

POOL_SIZE = 32  # as many connections as the Broadcaster has threads


class Urllib3Wire:
    """Signed POSTs to one origin over one urllib3 pool shared by the threads."""

    def __init__(
        self,
        origin: str,
        *,
        service: str,
        region: str,
        credential: Callable[[], ReadOnlyCredentials],
        connect_timeout_s: float,
        read_timeout_s: float,
        ca_bundle: str | None = None,
    ) -> None:
        self._origin = origin.rstrip("/")
        self._service = service
        self._region = region
        self._credential = credential
        self._timeout = urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s)
        self._ca_bundle = ca_bundle
        self._pool: urllib3.HTTPConnectionPool | None = None
        self._lock = threading.Lock()

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        request = AWSRequest("POST", self._origin + path, headers=headers, data=body)
        SigV4Auth(self._credential(), self._service, self._region).add_auth(request)
        try:
            response = self._connections().urlopen(
                "POST",
                path,
                body=body,
                headers=dict(request.headers.items()),
                retries=False,
                redirect=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.HTTPError as error:
            raise _as_botocore(error, self._origin) from error
        received = {name.lower(): value for name, value in response.headers.itermerged()}
        return Answer(response.status, received, response.data)

    def _connections(self) -> urllib3.HTTPConnectionPool:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    options: dict[str, Any] = {}
                    if self._origin.startswith("https:"):
                        options["ssl_context"] = ssl.create_default_context(cafile=self._ca_bundle)
                    self._pool = urllib3.connection_from_url(
                        self._origin,
                        maxsize=POOL_SIZE,
                        timeout=self._timeout,
                        retries=False,
                        **options,
                    )
        return self._pool


def _as_botocore(error: Exception, url: str) -> botocore.exceptions.BotoCoreError:
    """urllib3's error as botocore's URLLib3Session raises it."""
    exceptions = urllib3.exceptions
    if isinstance(error, exceptions.SSLError):
        return botocore.exceptions.SSLError(endpoint_url=url, error=error)
    if isinstance(error, exceptions.NewConnectionError | exceptions.NameResolutionError):
        return botocore.exceptions.EndpointConnectionError(endpoint_url=url, error=error)
    if isinstance(error, exceptions.ConnectTimeoutError):
        return botocore.exceptions.ConnectTimeoutError(endpoint_url=url, error=error)
    if isinstance(error, exceptions.ReadTimeoutError):
        return botocore.exceptions.ReadTimeoutError(endpoint_url=url, error=error)
    if isinstance(error, exceptions.ProtocolError):
        return botocore.exceptions.ConnectionClosedError(endpoint_url=url)
    return botocore.exceptions.HTTPClientError(error=error)


class Urllib3DynamoDB(DynamoDBHttp):
    """`DynamoDBHttp` (its endpoint rules, request bytes, parsing and retries) over urllib3
    and `SigV4Auth`."""

    _wire: Urllib3Wire

    def _resolve(self) -> Endpoint | None:
        endpoint = super()._resolve()
        if endpoint is not None:
            self._wire = Urllib3Wire(
                endpoint.url,
                service=SERVICE,
                region=str(self._region),
                credential=endpoint.credentials.get_frozen_credentials,
                connect_timeout_s=self._connect_timeout_s,
                read_timeout_s=self._read_timeout_s,
            )
        return endpoint

    def _send(self, endpoint: Endpoint, body: bytes, headers: dict[str, str]) -> Answer:
        return self._wire.post("/", body, headers)


class Urllib3Connections(ConnectionsApi):
    """`ConnectionsApi` (its paths, retries and error reading) over urllib3 and `SigV4Auth`."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        super().__init__(endpoint_url, region)
        parts = urllib.parse.urlsplit(endpoint_url)
        self._wire = Urllib3Wire(
            f"{parts.scheme}://{parts.netloc}",
            service=connections.SERVICE,
            region=region,
            credential=self._credential,
            connect_timeout_s=TIMEOUT_S,
            read_timeout_s=TIMEOUT_S,
        )

    def _send(self, path: str, data: bytes) -> connections.Answer:
        try:
            answer = self._wire.post(path, data, {})
        except botocore.exceptions.BotoCoreError as error:
            raise ConnectionError(str(error)) from error  # what post() retries
        return connections.Answer(
            answer.status, answer.headers.get("x-amzn-errortype"), answer.body
        )
