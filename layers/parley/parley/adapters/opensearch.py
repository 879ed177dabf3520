"""The OpenSearch adapter: the only code that touches opensearch-py.

In AWS the domain takes SigV4-signed HTTPS: each request is signed for the `es` service with
the function's role by the layer's one signer (`parley.adapters.sigv4`, through `EsSigning`
on opensearch-py's requests transport); locally the node speaks plain HTTP. Imports are lazy:
the module costs nothing until used.
"""

from __future__ import annotations

import hashlib
import random
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from parley.adapters.sigv4 import find_credentials, host_header, signed_headers
from parley.search import mapping
from parley.search.changes import IndexChange

if TYPE_CHECKING:
    from opensearchpy import OpenSearch
    from requests import PreparedRequest

RETRYABLE = frozenset({429, 500, 502, 503, 504})


class SearchUnavailable(Exception):
    """No search endpoint is configured, or OpenSearch did not answer."""


@dataclass
class WriteOutcome:
    """Of a bulk write: changes applied (or already superseded), and those to retry."""

    done: list[IndexChange] = field(default_factory=list)
    failed: list[IndexChange] = field(default_factory=list)


def connect(endpoint: str, region: str, timeout_s: float = 5.0) -> OpenSearch:
    from opensearchpy import OpenSearch, RequestsHttpConnection

    url = endpoint if "://" in endpoint else f"https://{endpoint}"
    parsed = urllib.parse.urlsplit(url)
    secure = parsed.scheme == "https"
    return OpenSearch(
        hosts=[{"host": parsed.hostname, "port": parsed.port or (443 if secure else 80)}],
        http_auth=EsSigning(region) if secure else None,
        use_ssl=secure,
        verify_certs=secure,
        connection_class=RequestsHttpConnection,
        timeout=timeout_s,
        max_retries=0,  # our own retries decide what is retried
    )


class EsSigning:
    """requests' auth hook on opensearch-py's transport: every request signed for the `es`
    service, its `Content-Type` and the content's SHA-256 (`X-Amz-Content-SHA256`) among the
    signed headers. Credentials are botocore's chain, found once and read per request, so a
    role's credentials refresh themselves; `clock` gives the signing time (tests freeze it)."""

    def __init__(self, region: str, clock: Callable[[], float] = time.time) -> None:
        self.region = region
        self.clock = clock
        self._credentials = find_credentials()

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        url = urllib.parse.urlsplit(request.url or "")
        body = request.body or b""
        payload = body.encode() if isinstance(body, str) else body
        headers = {"X-Amz-Content-SHA256": hashlib.sha256(payload).hexdigest()}
        if "Content-Type" in request.headers:
            headers["Content-Type"] = request.headers["Content-Type"]
        request.headers.update(
            signed_headers(
                request.method or "GET",
                host_header(url),
                url.path or "/",
                payload,
                query=url.query,
                service="es",
                region=self.region,
                credential=self._credentials.get_frozen_credentials(),
                now=self.clock(),
                headers=headers,
            )
        )
        return request


class MessageIndex:
    def __init__(self, client: OpenSearch) -> None:
        self.client = client

    def ensure(self) -> None:
        """The index template, the first index and both aliases; safe to call at every start.

        A deployment from before the write alias (one index behind `messages`) gets the
        write alias on the indices its read alias names. An unreachable domain is
        SearchUnavailable: the indexer returns its batch to the queue, the search route
        answers 503, and the next invocation tries again.
        """
        from opensearchpy.exceptions import ConnectionError as TransportConnectionError
        from opensearchpy.exceptions import RequestError

        try:
            self.client.indices.put_index_template(
                name=mapping.TEMPLATE, body=mapping.index_template()
            )
            if self.client.indices.exists_alias(name=mapping.WRITE_ALIAS):
                return
            readable = self.indices_behind(mapping.READ_ALIAS)
            if readable:
                self.client.indices.update_aliases(
                    body={
                        "actions": [
                            {"add": {"index": index, "alias": mapping.WRITE_ALIAS}}
                            for index in readable
                        ]
                    }
                )
                return
            self.client.indices.create(
                index=mapping.index_name(1),
                body={"aliases": {mapping.READ_ALIAS: {}, mapping.WRITE_ALIAS: {}}},
            )
        except RequestError as error:
            if error.error != "resource_already_exists_exception":
                raise
        except TransportConnectionError as error:
            # A timeout too: a slow node may still finish the work, which the next call finds.
            raise SearchUnavailable(f"OpenSearch is unreachable: {error}") from None

    def indices_behind(self, alias: str) -> list[str]:
        """The indices an alias names, sorted; none when it does not exist."""
        from opensearchpy.exceptions import NotFoundError

        try:
            found: dict[str, Any] = self.client.indices.get_alias(name=alias)
        except NotFoundError:
            return []
        return sorted(found)

    def write(
        self,
        changes: Sequence[IndexChange],
        *,
        attempts: int = 3,
        base_delay_s: float = 0.2,
        refresh: bool = False,
        index: str | None = None,
    ) -> WriteOutcome:
        """Bulk-writes with external versions to `index`, or by default to every index behind
        the write alias (two while a reindex runs), looked up for each attempt so a change of
        the aliases is followed at once. A change is done when every index took it or holds
        this version or a newer one (409). 429 and 5xx are retried with jittered backoff;
        what still fails (and any other error) is returned for the queue to redeliver."""
        outcome = WriteOutcome()
        pending = _latest_per_document(changes, outcome)
        for attempt in range(attempts):
            if not pending:
                break
            if attempt:
                time.sleep(base_delay_s * 2**attempt * random.uniform(0.5, 1.5))  # noqa: S311 - jitter
            targets = [index] if index else self._write_targets()
            retry: list[IndexChange] = []
            for change, status in self._bulk(pending, refresh, targets):
                if status < 300 or status == 409:
                    outcome.done.append(change)
                elif status in RETRYABLE:
                    retry.append(change)
                else:
                    outcome.failed.append(change)
            pending = retry
        outcome.failed.extend(pending)
        return outcome

    def _write_targets(self) -> list[str]:
        from opensearchpy.exceptions import ConnectionError as TransportConnectionError
        from opensearchpy.exceptions import TransportError

        try:
            targets = self.indices_behind(mapping.WRITE_ALIAS)
            if not targets:  # a new or lost domain: make the index and its aliases again
                self.ensure()
                targets = self.indices_behind(mapping.WRITE_ALIAS)
        except (TransportConnectionError, TransportError):
            return []  # every change is retried (503 below)
        return targets

    def _bulk(
        self, changes: Sequence[IndexChange], refresh: bool, targets: Sequence[str]
    ) -> list[tuple[IndexChange, int]]:
        """Each change's status: the worst over `targets` (a retryable one first)."""
        from opensearchpy.exceptions import ConnectionError as TransportConnectionError
        from opensearchpy.exceptions import TransportError

        if not targets:
            return [(change, 503) for change in changes]
        body: list[dict[str, Any]] = []
        for change in changes:
            for target in targets:
                body.append(
                    {
                        "index": {
                            "_index": target,
                            "_id": change.doc_id,
                            "version": change.version,
                            "version_type": "external",
                        }
                    }
                )
                body.append(change.document())
        try:
            reply = self.client.bulk(body=body, refresh="true" if refresh else "false")
        except TransportConnectionError:
            return [(change, 503) for change in changes]
        except TransportError as error:
            status = error.status_code if isinstance(error.status_code, int) else 503
            return [(change, status) for change in changes]
        statuses = [int(item["index"]["status"]) for item in reply["items"]]
        per_change = len(targets)
        return [
            (change, _worst(statuses[n * per_change : (n + 1) * per_change]))
            for n, change in enumerate(changes)
        ]

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        from opensearchpy.exceptions import ConnectionError as TransportConnectionError
        from opensearchpy.exceptions import NotFoundError, TransportError

        try:
            reply: dict[str, Any] = self.client.search(index=mapping.READ_ALIAS, body=body)
        except NotFoundError:  # nothing was ever indexed
            return {"hits": {"total": {"value": 0}, "hits": []}}
        except (TransportConnectionError, TransportError) as error:
            raise SearchUnavailable(str(error)) from None
        return reply


def _worst(statuses: Sequence[int]) -> int:
    """One status for a change written to several indices: done only if done everywhere."""
    failing = [status for status in statuses if status >= 300 and status != 409]
    if not failing:
        return statuses[0]
    retryable = [status for status in failing if status in RETRYABLE]
    return retryable[0] if retryable else failing[0]


def _latest_per_document(
    changes: Sequence[IndexChange], outcome: WriteOutcome
) -> list[IndexChange]:
    """One action per document in a bulk: the highest version; the others are superseded."""
    latest: dict[str, IndexChange] = {}
    for change in changes:
        kept = latest.get(change.doc_id)
        if kept is None or change.version > kept.version:
            if kept is not None:
                outcome.done.append(kept)
            latest[change.doc_id] = change
        else:
            outcome.done.append(change)
    return list(latest.values())
