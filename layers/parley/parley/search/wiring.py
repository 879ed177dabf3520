"""Search's process-wide objects, built on first use from the settings."""

from __future__ import annotations

import functools

from parley.config import Settings
from parley.queues import SqsQueue
from parley.search.opensearch import MessageIndex, SearchUnavailable, connect


@functools.cache
def message_index(config: Settings) -> MessageIndex:
    """The index, its template and alias ensured once per cold start."""
    if not config.opensearch_endpoint:
        raise SearchUnavailable("search is not configured (OPENSEARCH_ENDPOINT is empty)")
    index = MessageIndex(connect(config.opensearch_endpoint, config.region))
    index.ensure()
    return index


@functools.cache
def index_queue(config: Settings) -> SqsQueue:
    if not config.index_queue_url:
        raise RuntimeError("INDEX_QUEUE_URL is not set")
    return SqsQueue(config.index_queue_url, config.region)
