"""The table's stream → the app events queue: which app hears which change.

An app hears an event when it has a request URL, is not paused, subscribed to it (by
Slack's name, or by the old name that covered it: parley.slack.events), holds the scope
Slack's subscription needs (parley.slack.scopes.effective_scopes), and its bot is in the
channel (`channel_created`: a public channel, to every app that may hear it; `app_mention`:
only the apps whose bot the message mentions). It never hears what its own bot did: an echo
bot must not hear its echo. An app made before Slack's names (no `scopeNames`) hears its
old subscriptions as it did, when events needed no scope but `channel_created`'s
`channels:read`.

A message the retention sweep removed is no news: apps do not hear it as
`message_deleted` (its channel's policy is read once per channel and batch, and only for a
removal that some app would hear).

At least once: a record whose envelopes could not all be queued is reported as the batch's
first failure, so the stream retries from it; the event ids let a receiver drop repeats.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from parley.apps.changes import ChannelEvent, channel_events
from parley.apps.delivery import Envelope
from parley.domain.ports.apps import store as app_store
from parley.domain.ports.channels import store as channel_store
from parley.domain.ports.messages import store as message_store
from parley.domain.ports.retention import store as retention_store
from parley.domain.records import AppRecord
from parley.domain.retention import DAY_SECONDS, kept_days
from parley.ids import ts_from_micros
from parley.observability import MetricUnit, metrics
from parley.slack import events as slack_events
from parley.slack.scopes import effective_scopes
from parley.streams import BatchQueue, StreamRecord, first_failed

# What the old subscriptions needed: nothing, but the one that already had a scope.
_LEGACY_SCOPES = {"channel_created": "channels:read"}


@dataclass
class _Lookups:
    """Per batch: a workspace's apps, a channel's type and bots, a thread's author are
    read once."""

    apps: dict[str, list[AppRecord]] = field(default_factory=dict)
    types: dict[str, str | None] = field(default_factory=dict)
    bots_in: dict[tuple[str, frozenset[str]], set[str]] = field(default_factory=dict)
    authors: dict[tuple[str, str], str | None] = field(default_factory=dict)
    kept: dict[str, int | None] = field(default_factory=dict)

    def apps_of(self, workspace_id: str) -> list[AppRecord]:
        if workspace_id not in self.apps:
            self.apps[workspace_id] = app_store.list_apps(workspace_id)
        return self.apps[workspace_id]

    def channel_type(self, channel_id: str) -> str | None:
        if channel_id not in self.types:
            channel = channel_store.get_channel(channel_id)
            self.types[channel_id] = channel.type if channel else None
        return self.types[channel_id]

    def members_among(self, channel_id: str, bots: list[str]) -> set[str]:
        key = (channel_id, frozenset(bots))
        if key not in self.bots_in:
            self.bots_in[key] = channel_store.members_among(channel_id, bots)
        return self.bots_in[key]

    def author(self, channel_id: str, ts: str) -> str | None:
        if (channel_id, ts) not in self.authors:
            message = message_store.get_message(channel_id, ts)
            self.authors[channel_id, ts] = message.userId if message else None
        return self.authors[channel_id, ts]

    def retained(self, event: ChannelEvent, now: float) -> bool:
        """Whether a removed message was past its channel's retention (the sweep's)."""
        if event.channel_id not in self.kept:
            policies = retention_store.policies_of(event.workspace_id, event.channel_id)
            self.kept[event.channel_id] = kept_days(*policies)
        days = self.kept[event.channel_id]
        return days is not None and float(event.image["ts"]) <= now - days * DAY_SECONDS


def hears(app: AppRecord, subscription: slack_events.Subscription) -> bool:
    """Whether the app's subscriptions and scopes let it hear what this one delivers."""
    names = set(app.events)
    by_old_name = subscription.legacy is not None and subscription.legacy in names
    if subscription.name not in names and not by_old_name:
        return False
    scopes = effective_scopes(app.scopes, app.scopeNames)
    if app.scopeNames is None and by_old_name:
        needed = _LEGACY_SCOPES.get(str(subscription.legacy))
    else:
        needed = subscription.scope
    return needed is None or needed in scopes


def subscribers(event: ChannelEvent, lookups: _Lookups) -> list[AppRecord]:
    """The apps that hear this event."""
    candidates = [
        app
        for app in lookups.apps_of(event.workspace_id)
        if app.eventsUrl
        and not app.eventsPaused
        and app.botUserId != event.actor
        and (event.kind != "app_mention" or app.botUserId in event.mentioned)
    ]
    if not candidates:
        return []
    channel_type = event.channel_type or lookups.channel_type(event.channel_id)
    subscription = slack_events.subscription(event.kind, channel_type) if channel_type else None
    if subscription is None:
        return []
    hearing = [app for app in candidates if hears(app, subscription)]
    if event.kind == "channel_created" or not hearing:
        return hearing
    inside = lookups.members_among(event.channel_id, [app.botUserId for app in hearing])
    return [app for app in hearing if app.botUserId in inside]


def _slack_event(event: ChannelEvent, lookups: _Lookups, now_ts: str) -> dict[str, Any]:
    channel_type = event.channel_type or lookups.channel_type(event.channel_id)
    assert channel_type is not None  # subscribers found it
    thread_ts = event.image.get("threadTs")
    parent = lookups.author(event.channel_id, str(thread_ts)) if thread_ts else None
    return slack_events.render(event, channel_type, parent_user_id=parent, now_ts=now_ts)


def forward(records: Sequence[StreamRecord], queue: BatchQueue) -> str | None:
    """Queues an envelope per (event, subscribed app); the first record not fully queued,
    or None."""
    lookups = _Lookups()
    pending: list[tuple[str, str]] = []
    now_micros = time.time_ns() // 1000
    now_ts = ts_from_micros(now_micros)
    for record in records:
        for event in channel_events(record.event_name, record.new_image, record.old_image):
            apps = subscribers(event, lookups)
            if not apps:
                continue
            if event.kind == "message_deleted" and lookups.retained(event, now_micros / 1e6):
                continue
            body = _slack_event(event, lookups, now_ts)
            for app in apps:
                envelope = Envelope(
                    appId=app.appId,
                    eventId=event.event_id,
                    eventTime=now_micros // 1_000_000,
                    workspaceId=event.workspace_id,
                    event=body,
                )
                pending.append((record.sequence_number, envelope.model_dump_json()))
    failed = queue.send(pending)
    metrics.add_metric("AppEventsQueued", MetricUnit.Count, len(pending) - len(failed))
    return first_failed(records, failed)
