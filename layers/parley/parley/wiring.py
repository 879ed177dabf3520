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
    from parley.adapters.scheduler import EventBridgeScheduler
    from parley.adapters.sns import SnsPush
    from parley.adapters.sqs import SqsQueue


@functools.cache
def configured() -> Settings:
    """The settings, with the table bound and the domain's repositories bound to it; every
    handler calls this before touching data."""
    config = settings()
    bind(config.table_name, config.region, client=config.dynamodb_client)
    bind_repositories()
    return config


# Each repository port of the domain and the DynamoDB adapter module bound to it. A module is
# imported when its port is first used, so a function pays only for the aggregates it
# touches (the WebSocket functions use four or five of the fifteen).
REPOSITORIES = {
    "apps": "parley.adapters.dynamodb.apps",
    "bookmarks": "parley.adapters.dynamodb.bookmarks",
    "channels": "parley.adapters.dynamodb.channels",
    "claims": "parley.adapters.dynamodb.claims",
    "commands": "parley.adapters.dynamodb.commands",
    "connections": "parley.adapters.dynamodb.connections",
    "files": "parley.adapters.dynamodb.files",
    "imports": "parley.adapters.dynamodb.imports",
    "messages": "parley.adapters.dynamodb.messages",
    "notifications": "parley.adapters.dynamodb.notifications",
    "pins": "parley.adapters.dynamodb.pins",
    "preferences": "parley.adapters.dynamodb.preferences",
    "presence": "parley.adapters.dynamodb.presence",
    "ratelimits": "parley.adapters.dynamodb.ratelimits",
    "reads": "parley.adapters.dynamodb.reads",
    "retention": "parley.adapters.dynamodb.retention",
    "scheduling": "parley.adapters.dynamodb.scheduling",
    "usergroups": "parley.adapters.dynamodb.usergroups",
    "users": "parley.adapters.dynamodb.users",
    "webhooks": "parley.adapters.dynamodb.webhooks",
    "workspaces": "parley.adapters.dynamodb.workspaces",
}

if TYPE_CHECKING:
    # mypy holds each adapter module to its port's protocol.
    from parley.adapters.dynamodb import (
        apps,
        bookmarks,
        channels,
        claims,
        commands,
        connections,
        files,
        imports,
        messages,
        notifications,
        pins,
        preferences,
        presence,
        ratelimits,
        reads,
        retention,
        scheduling,
        usergroups,
        users,
        webhooks,
        workspaces,
    )
    from parley.domain.ports import (
        apps as apps_port,
    )
    from parley.domain.ports import (
        bookmarks as bookmarks_port,
    )
    from parley.domain.ports import (
        channels as channels_port,
    )
    from parley.domain.ports import (
        claims as claims_port,
    )
    from parley.domain.ports import (
        commands as commands_port,
    )
    from parley.domain.ports import (
        connections as connections_port,
    )
    from parley.domain.ports import (
        files as files_port,
    )
    from parley.domain.ports import (
        imports as imports_port,
    )
    from parley.domain.ports import (
        messages as messages_port,
    )
    from parley.domain.ports import (
        notifications as notifications_port,
    )
    from parley.domain.ports import (
        pins as pins_port,
    )
    from parley.domain.ports import (
        preferences as preferences_port,
    )
    from parley.domain.ports import (
        presence as presence_port,
    )
    from parley.domain.ports import (
        ratelimits as ratelimits_port,
    )
    from parley.domain.ports import (
        reads as reads_port,
    )
    from parley.domain.ports import (
        retention as retention_port,
    )
    from parley.domain.ports import (
        scheduling as scheduling_port,
    )
    from parley.domain.ports import (
        usergroups as usergroups_port,
    )
    from parley.domain.ports import (
        users as users_port,
    )
    from parley.domain.ports import (
        webhooks as webhooks_port,
    )
    from parley.domain.ports import (
        workspaces as workspaces_port,
    )

    _apps: apps_port.AppRepository = apps
    _bookmarks: bookmarks_port.BookmarkRepository = bookmarks
    _channels: channels_port.ChannelRepository = channels
    _claims: claims_port.ClaimRepository = claims
    _commands: commands_port.CommandRepository = commands
    _connections: connections_port.ConnectionRepository = connections
    _files: files_port.FileRepository = files
    _imports: imports_port.ImportRepository = imports
    _messages: messages_port.MessageRepository = messages
    _notifications: notifications_port.NotificationRepository = notifications
    _pins: pins_port.PinRepository = pins
    _preferences: preferences_port.PreferenceRepository = preferences
    _presence: presence_port.PresenceRepository = presence
    _ratelimits: ratelimits_port.RateLimitRepository = ratelimits
    _reads: reads_port.ReadRepository = reads
    _retention: retention_port.RetentionRepository = retention
    _scheduling: scheduling_port.ScheduleRepository = scheduling
    _usergroups: usergroups_port.UserGroupRepository = usergroups
    _users: users_port.UserRepository = users
    _webhooks: webhooks_port.WebhookRepository = webhooks
    _workspaces: workspaces_port.WorkspaceRepository = workspaces


def bind_repositories() -> None:
    """Binds every repository port of the domain to its DynamoDB adapter, imported on use."""
    from parley.domain import ports

    ports.bind_modules(REPOSITORIES)


@functools.cache
def broadcaster() -> Broadcaster:
    config = configured()
    if not config.ws_management_endpoint:
        raise RuntimeError("WS_MANAGEMENT_ENDPOINT is not set")
    # Imported here: the authorizer and other functions that never fan out skip their cost.
    from parley.adapters.connections import ConnectionsApi
    from parley.adapters.fanout import Broadcaster, Pacing

    queue = None
    if config.fanout_queue_url:
        # The lean client: the WebSocket functions that fan out carry no boto3.
        from parley.adapters.sqs_json import SqsJsonQueue

        queue = SqsJsonQueue(config.fanout_queue_url, config.region)
    pacing = Pacing(config.fanout_threshold, config.max_posts_per_second, config.fanout_concurrency)
    return Broadcaster(
        ConnectionsApi(config.ws_management_endpoint, config.region), queue=queue, pacing=pacing
    )


@functools.cache
def push() -> SnsPush | None:
    """Notifications for offline recipients; None where no topic is configured (no push)."""
    config = configured()
    topic_arn = config.notifications_topic_arn
    from parley.adapters.sns import SnsPush

    return SnsPush(topic_arn, config.region) if topic_arn else None


@functools.cache
def scheduler(poster_arn: str | None = None) -> EventBridgeScheduler:
    """The one-time schedules of scheduled messages and reminders; the poster itself names
    its own ARN (its template cannot)."""
    config = configured()
    target = poster_arn or config.scheduled_poster_arn
    if not (config.schedule_group and target and config.scheduler_role_arn):
        raise RuntimeError("SCHEDULE_GROUP, SCHEDULED_POSTER_ARN or SCHEDULER_ROLE_ARN is not set")
    from parley.adapters.scheduler import EventBridgeScheduler

    return EventBridgeScheduler(
        config.schedule_group, target, config.scheduler_role_arn, config.region
    )


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


@functools.cache
def retention_queue(config: Settings) -> SqsQueue:
    """The retention sweep's queue: its plan, workspace and channel tasks."""
    if not config.retention_queue_url:
        raise RuntimeError("RETENTION_QUEUE_URL is not set")
    from parley.adapters.sqs import SqsQueue

    return SqsQueue(config.retention_queue_url, config.region)


@functools.cache
def import_queue(config: Settings) -> SqsQueue:
    """The Slack imports' queue: their plans and chunks."""
    if not config.import_queue_url:
        raise RuntimeError("IMPORT_QUEUE_URL is not set")
    from parley.adapters.sqs import SqsQueue

    return SqsQueue(config.import_queue_url, config.region)
