"""Process-wide objects, built once per cold start and on first use.

Handlers call these; domain code receives what they return as arguments.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from parley.config import Settings, settings
from parley.store import bind

if TYPE_CHECKING:
    from parley.realtime.fanout import Broadcaster
    from parley.realtime.push import SnsPush
    from parley.storage.s3 import S3FileBucket


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
    from parley.realtime.connections_api import ConnectionsApi
    from parley.realtime.fanout import Broadcaster

    return Broadcaster(ConnectionsApi(config.ws_management_endpoint, config.region))


@functools.cache
def push() -> SnsPush | None:
    """Notifications for offline recipients; None where no topic is configured (no push)."""
    config = configured()
    topic_arn = config.notifications_topic_arn
    from parley.realtime.push import SnsPush

    return SnsPush(topic_arn, config.region) if topic_arn else None


@functools.cache
def file_bucket() -> S3FileBucket:
    config = configured()
    if not config.files_bucket:
        raise RuntimeError("FILES_BUCKET is not set")
    from parley.storage.s3 import S3FileBucket

    return S3FileBucket(config.files_bucket, config.region)
