"""The composition root: every process-wide object, built once per cold start on first use.

Handlers call these; domain code receives what they return as arguments. Each adapter is
imported inside the function that builds it, so a function pays only for what it uses (the
WebSocket functions never import opensearch-py, SQS or the apps' HTTP client).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from parley.adapters.dynamodb import bind
from parley.config import Settings, settings

if TYPE_CHECKING:
    from parley.adapters.app_http import UrllibPoster
    from parley.adapters.fanout import Broadcaster
    from parley.adapters.opensearch import MessageIndex
    from parley.adapters.s3 import S3FileBucket
    from parley.adapters.sns import SnsPush
    from parley.adapters.sqs import SqsQueue


@functools.cache
def configured() -> Settings:
    """The settings, with the table bound; every handler calls this before touching data."""
    config = settings()
    bind(config.table_name, config.region, client=config.dynamodb_client)
    return config


@functools.cache
def broadcaster() -> Broadcaster:
    config = configured()
    if not config.ws_management_endpoint:
        raise RuntimeError("WS_MANAGEMENT_ENDPOINT is not set")
    # Imported here: the authorizer and other functions that never fan out skip their cost.
    from parley.adapters.connections import ConnectionsApi
    from parley.adapters.fanout import Broadcaster

    return Broadcaster(ConnectionsApi(config.ws_management_endpoint, config.region))


@functools.cache
def push() -> SnsPush | None:
    """Notifications for offline recipients; None where no topic is configured (no push)."""
    config = configured()
    topic_arn = config.notifications_topic_arn
    from parley.adapters.sns import SnsPush

    return SnsPush(topic_arn, config.region) if topic_arn else None


@functools.cache
def file_bucket() -> S3FileBucket:
    config = configured()
    if not config.files_bucket:
        raise RuntimeError("FILES_BUCKET is not set")
    from parley.adapters.s3 import S3FileBucket

    return S3FileBucket(config.files_bucket, config.region)


@functools.cache
def events_queue(config: Settings) -> SqsQueue:
    """The apps' Events API queue."""
    if not config.events_queue_url:
        raise RuntimeError("EVENTS_QUEUE_URL is not set")
    from parley.adapters.sqs import SqsQueue

    return SqsQueue(config.events_queue_url, config.region)


@functools.cache
def http_poster(config: Settings) -> UrllibPoster:
    """The HTTP client that calls apps (events, slash commands)."""
    from parley.adapters.app_http import UrllibPoster

    return UrllibPoster(allow_private=config.allow_private_app_urls)


@functools.cache
def message_index(config: Settings) -> MessageIndex:
    """The search index, its template and alias ensured once per cold start."""
    from parley.adapters.opensearch import MessageIndex, SearchUnavailable, connect

    if not config.opensearch_endpoint:
        raise SearchUnavailable("search is not configured (OPENSEARCH_ENDPOINT is empty)")
    index = MessageIndex(connect(config.opensearch_endpoint, config.region))
    index.ensure()
    return index


@functools.cache
def index_queue(config: Settings) -> SqsQueue:
    """The search indexer's queue."""
    if not config.index_queue_url:
        raise RuntimeError("INDEX_QUEUE_URL is not set")
    from parley.adapters.sqs import SqsQueue

    return SqsQueue(config.index_queue_url, config.region)
