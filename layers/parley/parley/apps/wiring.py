"""The apps' process-wide objects (the events queue, the HTTP client that calls apps),
built on first use from the settings."""

from __future__ import annotations

import functools

from parley.apps.http import UrllibPoster
from parley.config import Settings
from parley.queues import SqsQueue


@functools.cache
def events_queue(config: Settings) -> SqsQueue:
    if not config.events_queue_url:
        raise RuntimeError("EVENTS_QUEUE_URL is not set")
    return SqsQueue(config.events_queue_url, config.region)


@functools.cache
def http_poster(config: Settings) -> UrllibPoster:
    return UrllibPoster(allow_private=config.allow_private_app_urls)
