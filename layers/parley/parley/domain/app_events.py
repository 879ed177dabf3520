"""The table's stream → the app events queue: which app hears which change.

An app hears an event when it subscribed to its type, has a request URL, is not paused,
and its bot is in the channel (`channel_created`: a public channel, to apps with
`channels:read`). It never hears what its own bot did: an echo bot must not hear its echo.
At least once: a record whose envelopes could not all be queued is reported as the batch's
first failure, so the stream retries from it; the event ids let a receiver drop repeats.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from parley.apps.delivery import Envelope
from parley.apps.events import ChannelEvent, channel_events
from parley.observability import MetricUnit, metrics
from parley.store import apps as app_store
from parley.store import channels as channel_store
from parley.store.items import AppItem
from parley.streams import BatchQueue, StreamRecord, first_failed


@dataclass
class _Lookups:
    """Per batch: a workspace's apps and a channel's bots are read once."""

    apps: dict[str, list[AppItem]] = field(default_factory=dict)
    bots_in: dict[tuple[str, frozenset[str]], set[str]] = field(default_factory=dict)

    def apps_of(self, workspace_id: str) -> list[AppItem]:
        if workspace_id not in self.apps:
            self.apps[workspace_id] = app_store.list_apps(workspace_id)
        return self.apps[workspace_id]

    def members_among(self, channel_id: str, bots: list[str]) -> set[str]:
        key = (channel_id, frozenset(bots))
        if key not in self.bots_in:
            self.bots_in[key] = channel_store.members_among(channel_id, bots)
        return self.bots_in[key]


def _actor(event: dict[str, Any]) -> str | None:
    message = event.get("message") or {}
    return event.get("userId") or message.get("userId")


def subscribers(event: ChannelEvent, lookups: _Lookups) -> list[AppItem]:
    actor = _actor(event.event)
    candidates = [
        app
        for app in lookups.apps_of(event.workspaceId)
        if app.eventsUrl
        and not app.eventsPaused
        and event.type in (app.events or [])
        and app.botUserId != actor
    ]
    if not candidates:
        return []
    if event.type == "channel_created":
        public = event.channelType == "public"
        return [app for app in candidates if public and "channels:read" in app.scopes]
    inside = lookups.members_among(event.channelId, [app.botUserId for app in candidates])
    return [app for app in candidates if app.botUserId in inside]


def forward(records: Sequence[StreamRecord], queue: BatchQueue) -> str | None:
    """Queues an envelope per (event, subscribed app); the first record not fully queued,
    or None."""
    lookups = _Lookups()
    pending: list[tuple[str, str]] = []
    now = int(time.time())
    for record in records:
        for event in channel_events(record.event_name, record.new_image, record.old_image):
            for app in subscribers(event, lookups):
                envelope = Envelope(
                    appId=app.appId,
                    eventId=event.eventId,
                    eventTime=now,
                    workspaceId=event.workspaceId,
                    event=event.event,
                )
                pending.append((record.sequence_number, envelope.model_dump_json()))
    failed = queue.send(pending)
    metrics.add_metric("AppEventsQueued", MetricUnit.Count, len(pending) - len(failed))
    return first_failed(records, failed)
