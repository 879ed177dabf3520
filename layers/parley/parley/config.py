"""Typed configuration, read once from the environment at the edge.

Only handlers call `settings()`; domain code receives what it needs as arguments.
"""

from __future__ import annotations

import functools
import os

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    region: str = Field(default="us-east-1", alias="AWS_REGION")
    ws_management_endpoint: str | None = Field(default=None, alias="WS_MANAGEMENT_ENDPOINT")
    connection_ttl_seconds: int = Field(default=7500, alias="CONNECTION_TTL_SECONDS", gt=0)
    user_pool_id: str | None = Field(default=None, alias="USER_POOL_ID")
    jwks_url: str | None = Field(default=None, alias="JWKS_URL")
    jwt_issuer: str | None = Field(default=None, alias="JWT_ISSUER")
    jwt_audience: str | None = Field(default=None, alias="JWT_AUDIENCE")
    # Search: the domain's endpoint (bare host in AWS, a URL locally; empty when there is
    # no search), and the queue that carries message changes to the indexer.
    opensearch_endpoint: str = Field(default="", alias="OPENSEARCH_ENDPOINT")
    index_queue_url: str | None = Field(default=None, alias="INDEX_QUEUE_URL")
    # Events API: the queue between the stream and the delivery to apps.
    events_queue_url: str | None = Field(default=None, alias="EVENTS_QUEUE_URL")
    # Notifications for recipients with no live connection (push or email subscribers).
    notifications_topic_arn: str | None = Field(default=None, alias="NOTIFICATIONS_TOPIC_ARN")


@functools.cache
def settings() -> Settings:
    """The process's settings; fails fast (at cold start) when a required variable is missing."""
    return Settings.model_validate(dict(os.environ))
