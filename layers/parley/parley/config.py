"""Typed configuration, read once from the environment at the edge.

Only handlers call `settings()`; domain code receives what it needs as arguments.

A frozen dataclass rather than a pydantic model: importing pydantic and building one model
costs 120-145 ms of CPU here, about as much as boto3 and its first client. The authorizer
and the connect, disconnect and ping functions need nothing else from pydantic, so their
cold starts pay it for nothing (docs/decisions.md, 2026-11-28).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A variable is missing or malformed: the function fails at cold start, not later."""


def _env(name: str, **options: Any) -> Any:
    """A field read from the environment variable `name`."""
    return field(metadata={"env": name}, **options)


@dataclass(frozen=True)
class Settings:
    table_name: str = _env("TABLE_NAME")
    region: str = _env("AWS_REGION", default="us-east-1")
    ws_management_endpoint: str | None = _env("WS_MANAGEMENT_ENDPOINT", default=None)
    connection_ttl_seconds: int = _env("CONNECTION_TTL_SECONDS", default=7500)
    # Presence: `away` once no sign of life (connect or ping) came for this long.
    presence_timeout_seconds: int = _env("PRESENCE_TIMEOUT_SECONDS", default=600)
    user_pool_id: str | None = _env("USER_POOL_ID", default=None)
    jwks_url: str | None = _env("JWKS_URL", default=None)
    jwt_issuer: str | None = _env("JWT_ISSUER", default=None)
    jwt_audience: str | None = _env("JWT_AUDIENCE", default=None)
    # Search: the domain's endpoint (bare host in AWS, a URL locally; empty when there is
    # no search), and the queue that carries message changes to the indexer.
    opensearch_endpoint: str = _env("OPENSEARCH_ENDPOINT", default="")
    index_queue_url: str | None = _env("INDEX_QUEUE_URL", default=None)
    # Events API: the queue between the stream and the delivery to apps.
    events_queue_url: str | None = _env("EVENTS_QUEUE_URL", default=None)
    # Notifications for recipients with no live connection (push or email subscribers).
    notifications_topic_arn: str | None = _env("NOTIFICATIONS_TOPIC_ARN", default=None)
    # Files: the private bucket uploads go to, and the largest upload (template parameter
    # MaxUploadBytes; 1 GiB as in Slack by default).
    files_bucket: str | None = _env("FILES_BUCKET", default=None)
    max_upload_bytes: int = _env("MAX_UPLOAD_BYTES", default=1024**3)
    # Slack imports: the queue of their work (plans and chunks), and the largest export's
    # zip (template parameter MaxImportBytes; 5 GiB, the most one presigned POST carries).
    import_queue_url: str | None = _env("IMPORT_QUEUE_URL", default=None)
    max_import_bytes: int = _env("MAX_IMPORT_BYTES", default=5 * 1024**3)
    # Retention: the queue of the daily sweep's tasks (its plan, workspaces and channels).
    retention_queue_url: str | None = _env("RETENTION_QUEUE_URL", default=None)
    # Apps: whether an app's URLs may point at private, loopback or link-local addresses
    # (template parameter AllowPrivateAppUrls: false in AWS, true in the local runtime, whose
    # receivers listen on 127.0.0.1).
    allow_private_app_urls: bool = _env("ALLOW_PRIVATE_APP_URLS", default=False)
    # The HTTP API's base URL, for the WebSocket's sendMessage (a slash command's
    # response_url is an HTTP route); the API function takes it from the request instead.
    http_api_url: str | None = _env("HTTP_API_URL", default=None)
    # Events API: seconds before retries 1, 2 and 3 of an unacknowledged event (template
    # parameter EventsRetryDelays; Slack's schedule by default). At most 900 each, the
    # longest delay SQS gives a message.
    events_retry_delays: tuple[int, ...] = _env("EVENTS_RETRY_DELAYS", default=(0, 60, 300))
    # Scheduled messages and reminders: Parley's EventBridge Scheduler group, the function
    # its one-time schedules invoke, and the role they invoke it with.
    schedule_group: str | None = _env("SCHEDULE_GROUP", default=None)
    scheduled_poster_arn: str | None = _env("SCHEDULED_POSTER_ARN", default=None)
    scheduler_role_arn: str | None = _env("SCHEDULER_ROLE_ARN", default=None)
    # Fan-out of large audiences: the queue of its jobs, the live connections a request
    # posts itself at most (FanoutThreshold), all posters' rate together
    # (MaxPostsPerSecond) and the queue's consumers (FanoutConcurrency). Without a queue
    # every audience is posted in the request.
    fanout_queue_url: str | None = _env("FANOUT_QUEUE_URL", default=None)
    fanout_threshold: int = _env("FANOUT_THRESHOLD", default=1000)
    max_posts_per_second: int = _env("MAX_POSTS_PER_SECOND", default=5000)
    fanout_concurrency: int = _env("FANOUT_CONCURRENCY", default=10)
    # The client under pynamodb (parley.adapters.dynamodb.base.CLIENTS): "lean" (DynamoDB's
    # JSON protocol over http.client) or "botocore", the opt-out; unit tests set "botocore"
    # for moto.
    dynamodb_client: str = _env("PARLEY_DYNAMODB_CLIENT", default="lean")

    def __post_init__(self) -> None:
        if len(self.table_name) < 3:
            raise ConfigError("TABLE_NAME must have at least 3 characters")
        if self.dynamodb_client not in ("lean", "botocore"):
            raise ConfigError(
                f"PARLEY_DYNAMODB_CLIENT must be lean or botocore, got {self.dynamodb_client!r}"
            )

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Each field from its variable: strings as they are, integers parsed and positive,
        booleans `true` or `false`."""
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            name = spec.metadata["env"]
            raw = environ.get(name)
            if raw is None:
                if spec.default is dataclasses.MISSING:
                    raise ConfigError(f"{name} must be set")
                continue
            parse = _PARSERS.get(str(spec.type))
            values[spec.name] = parse(name, raw) if parse else raw
        return cls(**values)


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def _boolean(name: str, raw: str) -> bool:
    if raw not in ("true", "false"):
        raise ConfigError(f"{name} must be true or false, got {raw!r}")
    return raw == "true"


def _delays(name: str, raw: str) -> tuple[int, ...]:
    """Comma-separated seconds, each 0 to 900 (SQS's longest message delay); at least one."""
    try:
        delays = tuple(int(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated seconds, got {raw!r}") from None
    if not all(0 <= delay <= 900 for delay in delays):
        raise ConfigError(f"{name}: each delay must be 0 to 900 seconds, got {raw!r}")
    return delays


_PARSERS: dict[str, Callable[[str, str], object]] = {
    "int": _positive_int,
    "bool": _boolean,
    "tuple[int, ...]": _delays,
}


@functools.cache
def settings() -> Settings:
    """The process's settings; fails fast (at cold start) when a required variable is missing."""
    return Settings.from_environ(os.environ)
