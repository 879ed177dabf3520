"""A lean SQS client for the fan-out queue: SendMessageBatch in SQS's JSON protocol
(`application/x-amz-json-1.0`, `X-Amz-Target: AmazonSQS.SendMessageBatch`), signed by
`parley.adapters.sigv4` and sent on `parley.adapters.keepalive`'s kept-alive connection, as
the lean @connections client does (`parley.adapters.connections`).

The WebSocket functions enqueue a large audience's fan-out jobs from the request path, and
they carry no boto3 (importing it and making a client costs them some 150 ms of cold start).
The request is the one botocore sends for the same call, without its bookkeeping headers.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from parley.adapters.keepalive import KeepAlive
from parley.adapters.sigv4 import find_credentials, host_header, signed_headers

if TYPE_CHECKING:
    from botocore.credentials import Credentials, ReadOnlyCredentials

SERVICE = "sqs"
TARGET = "AmazonSQS.SendMessageBatch"
CONTENT_TYPE = "application/x-amz-json-1.0"
# Botocore's header for SQS (a service that moved from the query protocol): errors keep
# their query-protocol codes.
QUERY_MODE = {"x-amzn-query-mode": "true"}
SQS_BATCH = 10  # entries a SendMessageBatch takes
BATCH_BYTES = 256 * 1024  # and their bodies together
TIMEOUT_S = 5
MAX_ATTEMPTS = 3
BACKOFF_S = 0.05
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class SqsError(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(f"{status} {error_type or 'error'}: {message}")
        self.status = status
        self.error_type = error_type


class SqsJsonQueue:
    """Sends bodies to one queue. `send` takes (key, body) pairs, as `parley.adapters.sqs.
    SqsQueue.send` does, and returns the keys SQS refused after retries."""

    def __init__(self, queue_url: str, region: str, clock: Callable[[], float] = time.time) -> None:
        self.queue_url = queue_url
        self._region = region
        self._clock = clock
        self._credentials: Credentials | None = None
        self._lock = threading.Lock()
        self._transport: KeepAlive | None = None
        self._host = ""

    def _connection(self) -> KeepAlive:
        """The kept-alive transport, made on first use (a function that never queues a
        job, most of them, never parses the URL)."""
        if self._transport is None:
            self._transport, endpoint = KeepAlive.to_url(self.queue_url, timeout_s=TIMEOUT_S)
            self._host = host_header(endpoint)
        return self._transport

    def send(self, bodies: Sequence[tuple[str, str]]) -> set[str]:
        """Batches of up to 10 entries and 256 KiB; entries SQS refuses with a sender's
        fault are not retried, the others (and whole batches that fail) are, 3 attempts."""
        failed: set[str] = set()
        for chunk in _chunks(bodies):
            pending = list(chunk)
            for attempt in range(1, MAX_ATTEMPTS + 1):
                refused, retry = self._send_batch(pending)
                failed.update(refused)
                if not retry:
                    break
                pending = [entry for entry in pending if entry[0] in retry]
                if attempt == MAX_ATTEMPTS:
                    failed.update(retry)
                    break
                time.sleep(random.random() * BACKOFF_S * 2 ** (attempt - 1))  # noqa: S311 jitter
        return failed

    def _send_batch(self, chunk: list[tuple[str, str]]) -> tuple[set[str], set[str]]:
        """(keys refused for good, keys to try again)."""
        document = {
            "QueueUrl": self.queue_url,
            "Entries": [
                {"Id": str(position), "MessageBody": body}
                for position, (_, body) in enumerate(chunk)
            ],
        }
        data = json.dumps(document).encode()  # as botocore serializes it, byte for byte
        try:
            status, body = self._post(data)
        except (OSError, http.client.HTTPException):
            return set(), {key for key, _ in chunk}
        if status in RETRYABLE_STATUSES:
            return set(), {key for key, _ in chunk}
        if not 200 <= status < 300:
            raise _error(status, body)
        reply = json.loads(body or b"{}")
        refused: set[str] = set()
        retry: set[str] = set()
        for entry in reply.get("Failed") or []:
            key = chunk[int(entry["Id"])][0]
            (refused if entry.get("SenderFault") else retry).add(key)
        return refused, retry

    def _post(self, data: bytes) -> tuple[int, bytes]:
        transport = self._connection()
        headers = signed_headers(
            "POST",
            self._host,
            "/",
            data,
            service=SERVICE,
            credential=self._credential(),
            region=self._region,
            now=self._clock(),
            headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET, **QUERY_MODE},
        )
        answer = transport.post("/", data, headers)
        return answer.status, answer.body

    def _credential(self) -> ReadOnlyCredentials:
        if self._credentials is None:
            with self._lock:
                if self._credentials is None:
                    self._credentials = find_credentials()
        return self._credentials.get_frozen_credentials()


def _chunks(bodies: Sequence[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Runs of at most 10 entries whose bodies stay within 256 KiB (UTF-8 bytes)."""
    chunks: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    size = 0
    for key, body in bodies:
        length = len(body.encode())
        if current and (len(current) == SQS_BATCH or size + length > BATCH_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append((key, body))
        size += length
    if current:
        chunks.append(current)
    return chunks


def _error(status: int, body: bytes) -> SqsError:
    try:
        document = json.loads(body) if body else {}
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    kind = str(document.get("__type") or "").rsplit("#", 1)[-1]
    return SqsError(status, kind, str(document.get("message") or document.get("Message") or ""))
